package dev.tamp.compot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.DictionaryWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.LowRankWeight;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.runtime.linalg.Linalg;
import dev.tamp.runtime.linalg.Matrix;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CompotTest {

    private static Map<String, LayerInput> layers() {
        Map<String, LayerInput> m = new LinkedHashMap<>();
        m.put("a", Fixtures.layer(64, 48, 1));
        m.put("b", Fixtures.layer(96, 48, 2));
        LayerInput c = Fixtures.layer(48, 80, 3);
        // the same layer stored ONNX-style [K][N]
        Matrix wt = c.weightNK().transpose();
        m.put("c-onnx", new LayerInput(Tensor.ofFloats(wt.toFloats(), 80, 48), 0, c.gram()));
        return m;
    }

    @Test void ratioOneKeepsWeightsExactly() {
        for (Method method : Method.values()) {
            CompotResult r = Compot.compress(layers(), CompotOptions.defaults(method, 1.0));
            assertEquals(1.0, r.achievedRatio(), 0.0);
            for (var e : layers().entrySet()) {
                EncodedTensor enc = r.encoded().get(e.getKey());
                assertInstanceOf(DenseWeight.class, enc);
                assertArrayEquals(e.getValue().weight().toFloatArray(), ((DenseWeight) enc).tensor().toFloatArray(), method.toString());
            }
            assertTrue(r.reports().stream().allMatch(x -> x.whitenedRelativeError() == 0), "dense error must be 0");
        }
    }

    private static void assertArrayEquals(float[] a, float[] b, String what) {
        assertTrue(Arrays.equals(a, b), what + ": dense weight changed");
    }

    @Test void compotEncodingHonoursItsInvariants() {
        Map<String, LayerInput> in = layers();
        CompotResult r = Compot.compress(in, CompotOptions.defaults(Method.COMPOT, 0.5).withGlobalAllocation(false));
        for (LayerReport row : r.reports()) {
            LayerInput layer = in.get(row.name());
            DictionaryWeight dw = assertInstanceOf(DictionaryWeight.class, r.encoded().get(row.name()));
            assertTrue(Arrays.equals(layer.weight().shape(), dw.shape()) && dw.kAxis() == layer.kAxis(), "shape/kAxis kept");
            long[] dictShape = ((DenseWeight) dw.dictionary()).tensor().shape();
            assertEquals(row.atoms(), dictShape[0]);
            assertEquals(layer.inFeatures(), dictShape[1]);
            assertEquals(DType.U8, dw.codeMask().dtype());
            int n = layer.outFeatures(), s = dw.sparsity();
            int[][] support = new int[n][];
            for (int i = 0; i < n; i++) {
                support[i] = dw.support(i); // throws unless exactly s bits are set
                for (int j = 0; j < s; j++) assertTrue(support[i][j] < row.atoms(), "atom out of range " + support[i][j]);
            }
            assertEquals(StorageBudget.dictionaryBytes(n, layer.inFeatures(), row.atoms(), s), dw.storageBytes());
            assertTrue(row.storageRatio() <= 0.5, "uniform ratio exceeded: " + row.storageRatio());
            // Factored inference x·dictionaryᵀ·codesᵀ equals x·Ŵᵀ (float32 tolerance).
            Matrix x = Fixtures.gaussian(5, layer.inFeatures(), 9);
            Matrix what = Encodings.decodeNK(dw, layer.kAxis());
            Matrix dict = Matrix.ofFloats((int) dictShape[0], (int) dictShape[1], ((DenseWeight) dw.dictionary()).tensor().toFloatArray());
            Matrix z = Linalg.multiply(x, false, dict, true); // [5][k]
            Matrix y = Matrix.zeros(5, n);
            Tensor vals = ((DenseWeight) dw.codeValues()).tensor();
            for (int t = 0; t < 5; t++) for (int i = 0; i < n; i++) {
                double acc = 0;
                for (int j = 0; j < s; j++) acc += vals.getFloat((long) i * s + j) * z.get(t, support[i][j]);
                y.set(t, i, acc);
            }
            Matrix ref = Linalg.multiply(x, false, what, true);
            double rel = y.minus(ref).frobeniusNorm() / ref.frobeniusNorm();
            assertTrue(rel <= 1e-5, "factored inference relative error " + rel);
            assertTrue(row.whitenedRelativeError() > 0 && row.whitenedRelativeError() < 1, "error " + row.whitenedRelativeError());
        }
    }

    @Test void orientationDoesNotChangeTheResult() {
        LayerInput pt = Fixtures.layer(40, 56, 7);
        Matrix wt = pt.weightNK().transpose();
        LayerInput onnx = new LayerInput(Tensor.ofFloats(wt.toFloats(), 56, 40), 0, pt.gram());
        for (Method m : Method.values()) {
            CompotOptions o = CompotOptions.defaults(m, 0.4).withGlobalAllocation(false);
            LayerReport a = Compot.compress(Map.of("x", pt), o).reports().get(0);
            LayerReport b = Compot.compress(Map.of("x", onnx), o).reports().get(0);
            assertEquals(a.whitenedRelativeError(), b.whitenedRelativeError(), 1e-9, m + ": [N][K] vs [K][N] input");
            assertEquals(a.storageBytes(), b.storageBytes());
        }
    }

    @Test void fullShapeCompotIsExactAndSvdBaselinesAreExactAtFullRank() {
        LayerInput layer = Fixtures.layer(30, 24, 8);
        Matrix w = layer.weightNK();
        LayerCompressor.DictionaryResult full = LayerCompressor.compot(layer, 24, 24, 5, 0, OrthogonalDictionary.Init.SVD, 0);
        double errC = w.minus(Encodings.decodeNK(full.encoding(), 1)).frobeniusNorm() / w.frobeniusNorm();
        double errS = w.minus(Encodings.decodeNK(LayerCompressor.truncatedSvd(layer, 24), 1)).frobeniusNorm() / w.frobeniusNorm();
        double errW = w.minus(Encodings.decodeNK(LayerCompressor.whitenedSvd(layer, 24, 0), 1)).frobeniusNorm() / w.frobeniusNorm();
        assertTrue(errC <= 1e-6 && errS <= 1e-6 && errW <= 1e-6,
                "full-shape reconstructions should equal W to float32 rounding: compot " + errC + ", svd " + errS + ", whitened " + errW);
    }

    @Test void deterministic() {
        CompotOptions o = CompotOptions.defaults(Method.COMPOT, 0.5);
        CompotResult a = Compot.compress(layers(), o), b = Compot.compress(layers(), o);
        for (String k : a.encoded().keySet()) {
            DictionaryWeight x = (DictionaryWeight) a.encoded().get(k), y = (DictionaryWeight) b.encoded().get(k);
            assertTrue(((DenseWeight) x.dictionary()).tensor().contentEquals(((DenseWeight) y.dictionary()).tensor())
                    && ((DenseWeight) x.codeValues()).tensor().contentEquals(((DenseWeight) y.codeValues()).tensor())
                    && x.codeMask().contentEquals(y.codeMask()), "run-to-run difference in " + k);
        }
    }

    @Test void badInputsAreRejected() {
        LayerInput l = Fixtures.layer(8, 6, 1);
        assertThrows(IllegalArgumentException.class, () -> new LayerInput(l.weight(), 1, Matrix.identity(7)));
        assertThrows(IllegalArgumentException.class, () -> CompotOptions.defaults(Method.COMPOT, 0));
        assertThrows(IllegalArgumentException.class, () -> CompotOptions.defaults(Method.COMPOT, 1.5));
        assertThrows(IllegalArgumentException.class, () -> Method.parse("pca"));
        assertEquals(Method.SVD_WHITENED, Method.parse("svd-whitened"));
        float[] v = l.weight().toFloatArray();
        v[3] = Float.NaN;
        LayerInput nan = new LayerInput(Tensor.ofFloats(v, 8, 6), 1, l.gram());
        assertThrows(IllegalArgumentException.class, () -> Compot.compress(Map.of("n", nan), CompotOptions.defaults(Method.COMPOT, 0.5)));
    }
}
