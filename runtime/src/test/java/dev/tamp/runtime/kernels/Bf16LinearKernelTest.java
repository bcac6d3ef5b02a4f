package dev.tamp.runtime.kernels;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The BF16 kernel against the dense F32 kernel on the same values widened once (the reference): the same floats for
 * decode-sized batches (both run VectorGemm on equal-sized tiles), within float summation order for GEMM batches
 * (OpenBLAS on chunks vs on the whole matrix), on ragged shapes (N not a multiple of the chunk, odd K).
 */
class Bf16LinearKernelTest {
    /** Gaussian BF16 values into b (flipped for reading) and, widened, into widened. */
    private static ByteBuffer bf16(SplittableRandom r, float[] widened, ByteBuffer b) {
        b.order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < widened.length; i++) {
            short bits = (short) (Float.floatToIntBits((float) r.nextGaussian()) >>> 16);
            b.putShort(bits);
            widened[i] = Float.intBitsToFloat(bits << 16);
        }
        return b.flip();
    }

    @Test
    void matchesTheWidenedDenseKernel() {
        SplittableRandom r = new SplittableRandom(4);
        for (int[] nk : new int[][] {{130, 77}, {64, 256}, {7, 33}, {301, 128}, {1100, 96}}) {
            int n = nk[0], k = nk[1];
            float[] widened = new float[n * k];
            ByteBuffer b = bf16(r, widened, ByteBuffer.allocate(2 * n * k));
            LinearKernel bf16 = LinearKernels.prepare("w", new DenseWeight(Tensor.of(DType.BF16, new long[] {n, k}, b)), 1);
            assertInstanceOf(Bf16LinearKernel.class, bf16, "a BF16 [N][K] weight stays BF16");
            assertArrayEquals(widened, bf16.denseWeight());
            DenseLinearKernel f32 = new DenseLinearKernel(widened, n, k);
            for (int rows : new int[] {1, 3, 9, 70, 203}) {
                float[] x = new float[rows * k];
                for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                float[] want = new float[rows * n], got = new float[rows * n];
                f32.forward(x, rows, want, Parallel.shared());
                bf16.forward(x, rows, got, Parallel.shared());
                if (rows < DenseLinearKernel.BLAS_MIN_ROWS) {
                    assertArrayEquals(want, got, n + "x" + k + " rows " + rows);
                } else {
                    // OpenBLAS's per-element order depends on the call's N (chunks of 512 vs the whole matrix; seen here)
                    for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-4f * (1 + Math.abs(want[i])), n + "x" + k + " rows " + rows);
                }
            }
        }
    }

    /** Direct (mapped-like) BF16 bytes run the native GEMV for few rows: every variant within summation order of F32. */
    @Test
    void nativeGemvMatchesTheWidenedDenseKernel() {
        NativeGroupedKernelTest.requireNative();
        SplittableRandom r = new SplittableRandom(5);
        for (int[] nk : new int[][] {{130, 77}, {64, 2048}, {7, 33}, {301, 128}}) {
            int n = nk[0], k = nk[1];
            float[] widened = new float[n * k];
            ByteBuffer b = bf16(r, widened, ByteBuffer.allocateDirect(2 * n * k));
            DenseLinearKernel f32 = new DenseLinearKernel(widened, n, k);
            for (dev.tamp.nativekernels.NativeKernels.Isa isa : dev.tamp.nativekernels.NativeKernels.Isa.values()) {
                if (isa.ordinal() > dev.tamp.nativekernels.NativeKernels.cpuIsa().ordinal()) continue;
                Bf16LinearKernel bf16 = new Bf16LinearKernel(b, n, k, isa);
                for (int rows : new int[] {1, 4}) {
                    float[] x = new float[rows * k];
                    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                    float[] want = new float[rows * n], got = new float[rows * n];
                    f32.forward(x, rows, want, Parallel.shared());
                    bf16.forward(x, rows, got, Parallel.shared());
                    for (int i = 0; i < want.length; i++) {
                        int m = i / n, o = i % n;
                        double mag = 0;
                        for (int j = 0; j < k; j++) mag += Math.abs(widened[o * k + j] * x[m * k + j]);
                        assertEquals(want[i], got[i], 1e-6 * mag + 1e-6, isa + " " + n + "x" + k + " rows " + rows + " @" + i);
                    }
                }
            }
        }
    }
}
