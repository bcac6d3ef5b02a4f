package dev.tamp.quantizers;

/** Relative Frobenius error ‖W − Ŵ‖ / ‖W‖ of a quantized weight (diagnostic only: activation-aware methods may raise it). */
public final class WeightError {
    private WeightError() {}

    public static double relative(float[] w, float[] q) {
        double num = 0, den = 0;
        for (int i = 0; i < w.length; i++) {
            double d = (double) w[i] - q[i];
            num += d * d;
            den += (double) w[i] * w[i];
        }
        return den == 0 ? 0 : Math.sqrt(num / den);
    }

    /** Decodes row r of an encoded weight's [N][K] view into out[0..K). */
    public interface RowDecoder {
        void decodeRow(int row, float[] out);
    }

    /**
     * The same error, one row at a time: memory holds two rows, not two copies of the weight (a large
     * embedding-sized layer would otherwise triple a streamed conversion's peak). Summation order is the
     * row-major order of {@link #relative(float[], float[])}, so both give the same value.
     */
    public static double relative(dev.tamp.core.tensor.Tensor w, int kAxis, RowDecoder q) {
        dev.tamp.formats.codec.FloatRows rows = new dev.tamp.formats.codec.FloatRows(w, kAxis);
        float[] a = new float[rows.cols()], b = new float[rows.cols()];
        double num = 0, den = 0;
        for (int r = 0; r < rows.rows(); r++) {
            rows.read(r, 1, a);
            q.decodeRow(r, b);
            for (int i = 0; i < a.length; i++) {
                double d = (double) a[i] - b[i];
                num += d * d;
                den += (double) a[i] * a[i];
            }
        }
        return den == 0 ? 0 : Math.sqrt(num / den);
    }
}
