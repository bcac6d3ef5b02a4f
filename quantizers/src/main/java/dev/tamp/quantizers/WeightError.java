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
}
