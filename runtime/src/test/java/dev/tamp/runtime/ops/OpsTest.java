package dev.tamp.runtime.ops;

import static dev.tamp.runtime.ops.OpHarness.op;
import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Attribute;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.runtime.value.Value;
import org.junit.jupiter.api.Test;

/** Each op on small cases computed by hand (numpy broadcasting, opset differences, error messages). */
class OpsTest {
    static Value f(float[] v, int... shape) { return Value.floats(v, shape); }

    static Value l(long[] v, int... shape) { return Value.longs(v, shape); }

    static Value bool(long[] v, int... shape) { return Value.longs(DType.BOOL, v, shape); }

    static void assertValue(Value got, float[] want, int[] shape, double tol) {
        assertArrayEquals(shape, got.shape, "shape");
        assertTrue(got.isFloat(), "float output, got " + got.dtype);
        double worst = 0;
        for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got.floats[i] - want[i]));
        assertTrue(worst <= tol, "max |Δ| " + worst + " > " + tol + ": " + java.util.Arrays.toString(got.floats));
    }

    static void assertExact(Value got, float[] want, int... shape) { assertValue(got, want, shape, 0); }

    static void assertLongs(Value got, DType dtype, long[] want, int... shape) {
        assertEquals(dtype, got.dtype);
        assertArrayEquals(shape, got.shape, "shape");
        assertArrayEquals(want, got.longs);
    }

    // ---- element-wise arithmetic and broadcasting ----

    @Test
    void addBroadcastsARowVector() {
        Value got = op("Add").in(f(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)).in(f(new float[] {10, 20, 30}, 3)).run();
        assertExact(got, new float[] {11, 22, 33, 14, 25, 36}, 2, 3);
    }

    @Test
    void mulBroadcastsBothOperands() {
        Value got = op("Mul").in(f(new float[] {1, 2}, 2, 1)).in(f(new float[] {3, 4, 5}, 1, 3)).run();
        assertExact(got, new float[] {3, 4, 5, 6, 8, 10}, 2, 3);
    }

    @Test
    void subWithScalarLeftOperand() {
        Value got = op("Sub").in(f(new float[] {10})).in(f(new float[] {1, 2, 3}, 3)).run();
        assertExact(got, new float[] {9, 8, 7}, 3);
    }

    @Test
    void divBroadcastsAMiddleAxis() {
        Value got = op("Div").in(f(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2)).in(f(new float[] {2, 4}, 2, 1, 1)).run();
        assertExact(got, new float[] {0.5f, 1, 1.5f, 2, 1.25f, 1.5f, 1.75f, 2}, 2, 2, 2);
    }

    @Test
    void integerAddKeepsInt64() {
        Value got = op("Add").in(l(new long[] {1, 2}, 2, 1)).in(l(new long[] {10, 20}, 2)).run();
        assertLongs(got, DType.I64, new long[] {11, 21, 12, 22}, 2, 2);
    }

    @Test
    void shapesThatDoNotBroadcastNameTheNodeAndOp() {
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> op("Add").in(f(new float[6], 2, 3)).in(f(new float[2], 2)).run());
        assertTrue(e.getMessage().contains("the_node") && e.getMessage().contains("Add") && e.getMessage().contains("broadcast"), e.getMessage());
    }

    @Test
    void powSquaresAndTakesRoots() {
        assertExact(op("Pow").in(f(new float[] {1, 2, -3}, 3)).in(f(new float[] {2})).run(), new float[] {1, 4, 9}, 3);
        assertExact(op("Pow").in(f(new float[] {4, 9}, 2)).in(f(new float[] {0.5f})).run(), new float[] {2, 3}, 2);
    }

    @Test
    void unaryFunctionsHitKnownValues() {
        assertExact(op("Sqrt").in(f(new float[] {4, 2.25f}, 2)).run(), new float[] {2, 1.5f}, 2);
        // erf/tanh/GELU reference values from the closed forms (A&S 7.1.26 approximation: |error| ≤ 1.5e-7)
        assertValue(op("Erf").in(f(new float[] {0, 0.5f, -1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3}, 18)).run(),
                new float[] {0, 0.5204998778f, -0.8427007929f, 0.9953222650f, 0.8427007929f, 0.8427007929f, 0.8427007929f,
                    0.8427007929f, 0.8427007929f, 0.8427007929f, 0.8427007929f, 0.8427007929f, 0.8427007929f,
                    0.8427007929f, 0.8427007929f, 0.8427007929f, 0.8427007929f, 0.9999779095f}, new int[] {18}, 3e-7);
        assertValue(op("Tanh").in(f(new float[] {0.5f, -2}, 2)).run(), new float[] {0.4621171573f, -0.9640275801f}, new int[] {2}, 1e-7);
        assertValue(op("Gelu").opset(20).in(f(new float[] {1, -1, 0}, 3)).run(),
                new float[] {0.8413447461f, -0.1586552539f, 0}, new int[] {3}, 3e-7);
    }

    @Test
    void whereBroadcastsConditionAndBranches() {
        Value got = op("Where").in(bool(new long[] {1, 0}, 2, 1)).in(f(new float[] {10, 20}, 2)).in(f(new float[] {-1})).run();
        assertExact(got, new float[] {10, 20, -1, -1}, 2, 2);
    }

    @Test
    void equalComparesIntegersIntoBool() {
        Value got = op("Equal").in(l(new long[] {1, 2, 3}, 3)).in(l(new long[] {2}, 1)).run();
        assertLongs(got, DType.BOOL, new long[] {0, 1, 0}, 3);
    }

    // ---- reductions, softmax, layer norm ----

    @Test
    void softmaxOfARow() {
        Value got = op("Softmax").opset(13).in(f(new float[] {1, 2, 3, Float.NEGATIVE_INFINITY, 0, Float.NEGATIVE_INFINITY}, 2, 3)).run();
        assertValue(got, new float[] {0.0900305732f, 0.2447284711f, 0.6652409558f, 0, 1, 0}, new int[] {2, 3}, 1e-7);
    }

    @Test
    void softmaxAxisMeansFlattenBeforeOpset13AndOneAxisFrom13() {
        Value x = f(new float[4], 1, 2, 2);
        // opset 11, axis 1: softmax over the flattened [2×2] block → 1/4 each
        assertExact(op("Softmax").opset(11).attr("axis", 1L).in(x).run(), new float[] {0.25f, 0.25f, 0.25f, 0.25f}, 1, 2, 2);
        // opset 13, axis 1: softmax over axis 1 alone (size 2) → 1/2 each
        assertExact(op("Softmax").opset(13).attr("axis", 1L).in(x).run(), new float[] {0.5f, 0.5f, 0.5f, 0.5f}, 1, 2, 2);
    }

    @Test
    void reduceMeanAxesAsAttributeAndAsInput() {
        Value x = f(new float[] {1, 2, 3, 4}, 2, 2);
        assertExact(op("ReduceMean").opset(17).attr("axes", new long[] {1}).in(x).run(), new float[] {1.5f, 3.5f}, 2, 1);
        assertExact(op("ReduceMean").opset(17).attr("axes", new long[] {0}).attr("keepdims", 0L).in(x).run(), new float[] {2, 3}, 2);
        assertExact(op("ReduceMean").opset(18).in(x).in(l(new long[] {-1}, 1)).run(), new float[] {1.5f, 3.5f}, 2, 1);
        assertExact(op("ReduceMean").opset(18).attr("keepdims", 0L).in(x).run(), new float[] {2.5f});
    }

    @Test
    void reduceMeanOverNonTrailingAxes() {
        float[] v = new float[12];
        for (int i = 0; i < 12; i++) v[i] = i;
        // element (i,j,k) = 6i + 2j + k; mean over i and k = 2j + 3.5
        Value got = op("ReduceMean").opset(13).attr("axes", new long[] {0, 2}).attr("keepdims", 0L).in(f(v, 2, 3, 2)).run();
        assertExact(got, new float[] {3.5f, 5.5f, 7.5f}, 3);
    }

    @Test
    void layerNormalizationWithStatistics() {
        float eps = 1e-5f;
        Value[] got = op("LayerNormalization").attr("epsilon", eps).outputs(3)
                .in(f(new float[] {1, 2, 3, 4, 10, 10, 10, 10}, 2, 4))
                .in(f(new float[] {1, 2, 1, 2}, 4)).in(f(new float[] {0, 0, 1, 1}, 4)).runAll();
        double inv = 1 / Math.sqrt(1.25 + eps), inv2 = 1 / Math.sqrt(eps); // row 1: mean 2.5, var 1.25; row 2: var 0
        float[] want = {(float) (-1.5 * inv), (float) (-0.5 * inv * 2), (float) (0.5 * inv + 1), (float) (1.5 * inv * 2 + 1), 0, 0, 1, 1};
        assertValue(got[0], want, new int[] {2, 4}, 1e-6);
        assertValue(got[1], new float[] {2.5f, 10}, new int[] {2, 1}, 0);
        assertValue(got[2], new float[] {(float) inv, (float) inv2}, new int[] {2, 1}, 1e-6 * inv2);
    }

    // ---- shape ops ----

    @Test
    void gatherRowsWithNegativeIndicesAndAColumn() {
        Value data = f(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
        assertExact(op("Gather").in(data).in(l(new long[] {2, 0, -1}, 1, 3)).run(), new float[] {5, 6, 1, 2, 5, 6}, 1, 3, 2);
        assertExact(op("Gather").attr("axis", 1L).in(data).in(l(new long[] {1})).run(), new float[] {2, 4, 6}, 3);
    }

    @Test
    void gatherIndexOutOfRangeIsAnError() {
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> op("Gather").in(f(new float[6], 3, 2)).in(l(new long[] {3}, 1)).run());
        assertTrue(e.getMessage().contains("the_node"), e.getMessage());
    }

    @Test
    void shapeWithStartAndEnd() {
        Value x = f(new float[24], 2, 3, 4);
        assertLongs(op("Shape").in(x).run(), DType.I64, new long[] {2, 3, 4}, 3);
        assertLongs(op("Shape").opset(15).attr("start", 1L).in(x).run(), DType.I64, new long[] {3, 4}, 2);
        assertLongs(op("Shape").opset(15).attr("start", -1L).in(x).run(), DType.I64, new long[] {4}, 1);
    }

    @Test
    void reshapeCopiesZeroAndInfersMinusOne() {
        float[] v = new float[24];
        for (int i = 0; i < v.length; i++) v[i] = i;
        Value got = op("Reshape").in(f(v, 2, 3, 4)).in(l(new long[] {0, -1}, 2)).run();
        assertArrayEquals(new int[] {2, 12}, got.shape);
        assertArrayEquals(v, got.floats);
        assertThrows(UnsupportedModelException.class, () -> op("Reshape").in(f(v, 2, 3, 4)).in(l(new long[] {5, -1}, 2)).run());
    }

    @Test
    void transposeDefaultAndExplicitPerm() {
        assertExact(op("Transpose").in(f(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)).run(), new float[] {1, 4, 2, 5, 3, 6}, 3, 2);
        float[] v = new float[12];
        for (int i = 0; i < v.length; i++) v[i] = i;
        // [2,3,2] perm (1,0,2): out[j][i][k] = in[i][j][k] = 6i + 2j + k
        Value got = op("Transpose").attr("perm", new long[] {1, 0, 2}).in(f(v, 2, 3, 2)).run();
        assertExact(got, new float[] {0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11}, 3, 2, 2);
    }

    @Test
    void unsqueezeAndSqueezeAxesAsAttributeBeforeOpset13AndAsInputAfter() {
        Value x = f(new float[] {1, 2, 3}, 3);
        assertArrayEquals(new int[] {1, 3, 1}, op("Unsqueeze").opset(11).attr("axes", new long[] {0, -1}).in(x).run().shape);
        assertArrayEquals(new int[] {1, 3, 1}, op("Unsqueeze").opset(13).in(x).in(l(new long[] {0, -1}, 2)).run().shape);
        Value y = f(new float[] {1, 2, 3}, 1, 3, 1);
        assertArrayEquals(new int[] {3, 1}, op("Squeeze").opset(11).attr("axes", new long[] {0}).in(y).run().shape);
        assertArrayEquals(new int[] {1, 3}, op("Squeeze").opset(13).in(y).in(l(new long[] {2}, 1)).run().shape);
        assertArrayEquals(new int[] {3}, op("Squeeze").opset(13).in(y).run().shape);
    }

    @Test
    void concatAlongTheLastAxis() {
        Value got = op("Concat").attr("axis", -1L).in(f(new float[] {1, 2}, 2, 1)).in(f(new float[] {3, 4, 5, 6}, 2, 2)).run();
        assertExact(got, new float[] {1, 3, 4, 2, 5, 6}, 2, 3);
    }

    @Test
    void sliceWithNegativeStepsAndOutOfBoundsEnds() {
        float[] v = new float[12];
        for (int i = 0; i < v.length; i++) v[i] = i;
        Value x = f(v, 3, 4);
        Value got = op("Slice").in(x).in(l(new long[] {0, 3}, 2)).in(l(new long[] {2, 0}, 2))
                .in(l(new long[] {0, 1}, 2)).in(l(new long[] {1, -1}, 2)).run();
        assertExact(got, new float[] {3, 2, 1, 7, 6, 5}, 2, 3);
        got = op("Slice").in(x).in(l(new long[] {1}, 1)).in(l(new long[] {1000}, 1)).in(l(new long[] {-1}, 1)).run();
        assertExact(got, new float[] {1, 2, 3, 5, 6, 7, 9, 10, 11}, 3, 3);
        got = op("Slice").opset(9).attr("starts", new long[] {-1}).attr("ends", new long[] {Long.MAX_VALUE}).in(x).run();
        assertExact(got, new float[] {8, 9, 10, 11}, 1, 4);
    }

    @Test
    void castTruncatesTowardZeroAndMapsToBool() {
        assertLongs(op("Cast").attr("to", (long) DType.I64.onnxCode()).in(f(new float[] {1.7f, -1.7f}, 2)).run(),
                DType.I64, new long[] {1, -1}, 2);
        assertExact(op("Cast").attr("to", (long) DType.F32.onnxCode()).in(l(new long[] {3, -4}, 2)).run(), new float[] {3, -4}, 2);
        assertLongs(op("Cast").attr("to", (long) DType.BOOL.onnxCode()).in(f(new float[] {0, 2.5f}, 2)).run(),
                DType.BOOL, new long[] {0, 1}, 2);
    }

    @Test
    void expandBroadcastsToAShape() {
        Value got = op("Expand").in(f(new float[] {1, 2, 3}, 3, 1)).in(l(new long[] {2, 1, 2}, 3)).run();
        assertExact(got, new float[] {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}, 2, 3, 2);
    }

    @Test
    void constantOfShapeAndConstant() {
        Value got = op("ConstantOfShape").attr("value", new Attribute.TensorValue(Tensor.ofFloats(new float[] {0.5f}, 1)))
                .in(l(new long[] {2, 3}, 2)).run();
        assertExact(got, new float[] {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f}, 2, 3);
        assertExact(op("ConstantOfShape").in(l(new long[] {2}, 1)).run(), new float[] {0, 0}, 2);
        Value c = op("Constant").attr("value", new Attribute.TensorValue(Tensor.ofLongs(new long[] {7, 8}, 2))).run();
        assertLongs(c, DType.I64, new long[] {7, 8}, 2);
    }

    // ---- MatMul / Gemm ----

    @Test
    void matmulWithAWeightRunsThePreparedKernel() {
        // W is ONNX's [K][N] = [3][2]
        DenseWeight w = new DenseWeight(Tensor.ofFloats(new float[] {1, 0, 0, 1, 1, 1}, 3, 2));
        Value got = op("MatMul").in(f(new float[] {1, 2, 3, 4, 5, 6}, 1, 2, 3)).weight(w).run();
        assertExact(got, new float[] {4, 5, 10, 11}, 1, 2, 2);
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> op("MatMul").in(f(new float[8], 2, 4)).weight(w).run());
        assertTrue(e.getMessage().contains("the_node") && e.getMessage().contains("MatMul"), e.getMessage());
    }

    @Test
    void matmulOfActivationsBroadcastsBatchAndHandlesVectors() {
        Value got = op("MatMul").in(f(new float[] {1, 2, 3, 4}, 2, 1, 2)).in(f(new float[] {1, 1}, 2, 1)).run();
        assertExact(got, new float[] {3, 7}, 2, 1, 1);
        assertExact(op("MatMul").in(f(new float[] {1, 2, 3}, 3)).in(f(new float[] {4, 5, 6}, 3)).run(), new float[] {32});
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> op("MatMul").in(f(new float[6], 2, 3)).in(f(new float[8], 4, 2)).run());
        assertTrue(e.getMessage().contains("the_node") && e.getMessage().contains("MatMul"), e.getMessage());
    }

    @Test
    void gemmWithTransposeAlphaBetaAndBias() {
        float[] a = {1, 2, 3, 4, 5, 6}, b = {1, 0, 0, 0, 1, 0};
        float[] want = {7, 14, 13, 20}; // 2·(A·Bᵀ) + 0.5·[10, 20]
        Value got = op("Gemm").attr("transB", 1L).attr("alpha", 2f).attr("beta", 0.5f)
                .in(f(a, 2, 3)).in(f(b, 2, 3)).in(f(new float[] {10, 20}, 2)).run();
        assertExact(got, want, 2, 2);
        Value viaKernel = op("Gemm").attr("transB", 1L).attr("alpha", 2f).attr("beta", 0.5f)
                .in(f(a, 2, 3)).weight(new DenseWeight(Tensor.ofFloats(b, 2, 3))).in(f(new float[] {10, 20}, 2)).run();
        assertExact(viaKernel, want, 2, 2);
    }

    // ---- refusals ----

    @Test
    void unknownOpIsRefusedAtPrepareTimeNamingNodeAndOp() {
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> op("FooBar").in(f(new float[] {1}, 1)).run());
        assertEquals("node the_node: unsupported op FooBar", e.getMessage());
    }

    @Test
    void floatOpOnIntegersIsAnErrorNotACrash() {
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> op("Softmax").in(l(new long[] {1, 2}, 2)).run());
        assertTrue(e.getMessage().contains("the_node") && e.getMessage().contains("Softmax"), e.getMessage());
    }
}
