package dev.tamp.runtime.ops;

import dev.tamp.core.ir.Node;
import dev.tamp.runtime.kernels.LinearKernel;
import dev.tamp.runtime.kernels.VectorGemm;
import dev.tamp.runtime.value.Value;
import java.util.Arrays;
import java.util.Map;

/**
 * MatMul and Gemm. When the right operand is a model weight, the op runs its prepared {@link LinearKernel}
 * (dense or encoded) on the flattened rows of the left operand; otherwise a batched activation × activation
 * product (attention scores and context) with numpy broadcasting of the batch dimensions.
 */
final class LinearOps {
    private LinearOps() {}

    static void register(Map<String, Op> ops) {
        ops.put("MatMul", LinearOps::matmul);
        ops.put("Gemm", LinearOps::gemm);
    }

    static Value[] matmul(Node n, Value[] in, OpContext c) {
        Value a = ElementwiseOps.floatInput(n, in, 0);
        LinearKernel k = c.kernelFor(n.inputs().get(1));
        if (k != null && a.rank() >= 1) {
            int kk = a.shape[a.rank() - 1];
            if (kk != k.inFeatures()) throw OpContext.error(n, "inner dimensions " + Arrays.toString(a.shape) + " x weight [" + k.inFeatures() + ", " + k.outFeatures() + "] differ");
            int rows = a.size() / Math.max(1, kk);
            float[] out = new float[rows * k.outFeatures()];
            k.forward(a.floats, rows, out, c.parallel());
            int[] shape = a.shape.clone();
            shape[shape.length - 1] = k.outFeatures();
            return new Value[] {Value.floats(out, shape)};
        }
        Value b = ElementwiseOps.floatInput(n, in, 1);
        return new Value[] {batchedMatmul(n, a, b, c)};
    }

    /** tamp.MatMulBias(x, W, b): a weight MatMul with its bias add fused in (prepare-time rewrite). */
    static Value[] matmulBias(Node n, Value[] in, OpContext c) {
        Value y = matmul(n, in, c)[0];
        Value b = ElementwiseOps.floatInput(n, in, 2);
        int cols = y.shape[y.rank() - 1];
        if (b.size() != cols) throw OpContext.error(n, "bias of " + b.size() + " for " + cols + " outputs");
        float[] o = y.floats, bias = b.floats;
        c.parallel().forRange(o.length / cols, 64, (from, to) -> {
            for (int r = from; r < to; r++) for (int j = 0; j < cols; j++) o[r * cols + j] += bias[j];
        });
        return new Value[] {y};
    }

    static Value batchedMatmul(Node n, Value a, Value b, OpContext c) {
        if (a.rank() < 1 || b.rank() < 1) throw OpContext.error(n, "scalar operands");
        int[] as = a.rank() == 1 ? new int[] {1, a.shape[0]} : a.shape;
        int[] bs = b.rank() == 1 ? new int[] {b.shape[0], 1} : b.shape;
        int m = as[as.length - 2], k = as[as.length - 1], k2 = bs[bs.length - 2], nn = bs[bs.length - 1];
        if (k != k2) throw OpContext.error(n, "inner dimensions differ: " + Arrays.toString(a.shape) + " x " + Arrays.toString(b.shape));
        int[] ab = Arrays.copyOf(as, as.length - 2), bb = Arrays.copyOf(bs, bs.length - 2);
        int[] batch = Shapes.broadcast(ab, bb);
        if (batch == null) throw OpContext.error(n, "batch dimensions do not broadcast");
        int nb = Shapes.size(batch);
        int[] ia = Shapes.broadcastIndex(ab, batch), ib = Shapes.broadcastIndex(bb, batch);
        float[] out = new float[nb * m * nn];
        final int fm = m, fk = k, fn = nn;
        c.parallel().forRange(nb, 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                VectorGemm.gemmNN(a.floats, ia[i] * fm * fk, b.floats, ib[i] * fk * fn, out, i * fm * fn, fm, fn, fk);
            }
        });
        int[] shape = new int[batch.length + 2];
        System.arraycopy(batch, 0, shape, 0, batch.length);
        shape[batch.length] = m;
        shape[batch.length + 1] = nn;
        if (a.rank() == 1) shape = dropAxis(shape, shape.length - 2);
        if (b.rank() == 1) shape = dropAxis(shape, shape.length - 1);
        return Value.floats(out, shape);
    }

    private static int[] dropAxis(int[] s, int axis) {
        int[] o = new int[s.length - 1];
        for (int i = 0, j = 0; i < s.length; i++) if (i != axis) o[j++] = s[i];
        return o;
    }

    static Value[] gemm(Node n, Value[] in, OpContext c) {
        Value a = ElementwiseOps.floatInput(n, in, 0);
        boolean transA = n.intAttr("transA", 0) != 0, transB = n.intAttr("transB", 0) != 0;
        float alpha = n.floatAttr("alpha", 1f), beta = n.floatAttr("beta", 1f);
        if (a.rank() != 2) throw OpContext.error(n, "A must be 2-D, got " + Arrays.toString(a.shape));
        if (transA) a = ShapeOps.transpose(n, a, new long[] {1, 0});
        int m = a.shape[0], k = a.shape[1];
        float[] out;
        int nn;
        LinearKernel kern = c.kernelFor(n.inputs().get(1));
        if (kern != null) {
            if (kern.inFeatures() != k) throw OpContext.error(n, "A has " + k + " columns, weight expects " + kern.inFeatures());
            nn = kern.outFeatures();
            out = new float[m * nn];
            kern.forward(a.floats, m, out, c.parallel());
        } else {
            Value b = ElementwiseOps.floatInput(n, in, 1);
            if (b.rank() != 2) throw OpContext.error(n, "B must be 2-D");
            float[] w; // as [N][K]
            if (transB) {
                nn = b.shape[0];
                if (b.shape[1] != k) throw OpContext.error(n, "inner dimensions differ");
                w = b.floats;
            } else {
                nn = b.shape[1];
                if (b.shape[0] != k) throw OpContext.error(n, "inner dimensions differ");
                w = ShapeOps.transpose(n, b, new long[] {1, 0}).floats;
            }
            out = new float[m * nn];
            VectorGemm.gemm(a.floats, w, out, m, nn, k, c.parallel());
        }
        if (alpha != 1f) for (int i = 0; i < out.length; i++) out[i] *= alpha;
        if (in.length > 2 && in[2] != null && beta != 0f) {
            Value cv = ElementwiseOps.floatInput(n, in, 2);
            int[] shape = {m, nn};
            if (Shapes.broadcast(cv.shape, shape) == null || !Arrays.equals(Shapes.broadcast(cv.shape, shape), shape)) {
                throw OpContext.error(n, "C " + Arrays.toString(cv.shape) + " does not broadcast to " + Arrays.toString(shape));
            }
            if (cv.size() == nn && (cv.rank() == 1 || cv.shape[0] == 1)) {
                for (int i = 0; i < m; i++) for (int j = 0; j < nn; j++) out[i * nn + j] += beta * cv.floats[j];
            } else {
                int[] idx = Shapes.broadcastIndex(cv.shape, shape);
                for (int i = 0; i < out.length; i++) out[i] += beta * cv.floats[idx[i]];
            }
        }
        return new Value[] {Value.floats(out, m, nn)};
    }
}
