package dev.tamp.quantizers.gptq;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.TestModels;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.quantizers.FakeQuant;
import dev.tamp.quantizers.LinearWeightRewriter;
import dev.tamp.runtime.calib.Calibrator;
import dev.tamp.runtime.calib.ChannelStats;
import dev.tamp.runtime.calib.LinearLayers;
import dev.tamp.runtime.data.CalibrationSampler;
import dev.tamp.runtime.data.TextCorpus;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.tokenizer.Tokenizer;
import dev.tamp.runtime.tokenizer.Tokenizers;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * GPTQ on real MiniLM layers: fitted on calibration sentences, judged on the Gram matrix of held-out ones, so the
 * gain over RTN is not just the calibration objective being fitted.
 */
@org.junit.jupiter.api.Tag("slow")
class GptqMiniLmTest {
    @Test
    void beatsRoundToNearestOnHeldOutActivations() throws Exception {
        byte[] tj;
        try (InputStream in = GptqMiniLmTest.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            tj = in.readAllBytes();
        }
        Model fp32 = ModelLoader.load(TestModels.miniLm(), Progress.NONE).withTokenizer(tj);
        Tokenizer tok = Tokenizers.fromJson(tj);
        List<String> calib = CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.CALIBRATION), CalibrationSampler.Mode.SENTENCE, 32, 0, 0);
        List<String> held = CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.HELD_OUT), CalibrationSampler.Mode.SENTENCE, 32, 9, 0);
        List<LinearLayers.Linear> layers = LinearLayers.of(fp32).stream()
                .filter(x -> x.name().equals("/encoder/layer.2/attention/self/query/MatMul") || x.name().equals("/encoder/layer.2/output/dense/MatMul"))
                .toList();
        assertEquals(2, layers.size());
        Set<String> inputs = layers.stream().map(LinearLayers.Linear::input).collect(Collectors.toSet());
        Map<String, ChannelStats> fitStats = Calibrator.encoder(fp32, new JavaBackend(), tok, calib, 128, 16, x -> inputs.contains(x.input()), true, Progress.NONE).byInput();
        Map<String, ChannelStats> testStats = Calibrator.encoder(fp32, new JavaBackend(), tok, held, 128, 16, x -> inputs.contains(x.input()), true, Progress.NONE).byInput();
        for (LinearLayers.Linear l : layers) {
            String node = l.name();
            ChannelStats fit = fitStats.get(l.input()), test = testStats.get(l.input());
            int n = l.outFeatures(), k = fit.k;
            float[] w = LinearWeightRewriter.rowsOf((DenseWeight) fp32.weights().get(l.weight()), l.kAxis());
            for (int[] cfg : new int[][] {{4, 0, 128}, {8, 1, 0}}) {
                int bits = cfg[0], group = cfg[2];
                boolean sym = cfg[1] == 1;
                for (boolean act : new boolean[] {false, true}) {
                    Gptq.Result g = Gptq.quantize(w, n, k, fit.gram, bits, sym, group, act, 0.01, 128);
                    assertFalse(g.fellBack());
                    assertArrayEquals(g.effective(), IntGroupCodec.dequantize(g.weightAs(fp32.weights().get(l.weight()).shape(), l.kAxis())));
                    float[] rtn = FakeQuant.apply(w, n, k, bits, sym, group);
                    double eG = GptqTest.outputError(w, g.effective(), n, k, test.gram), eR = GptqTest.outputError(w, rtn, n, k, test.gram);
                    System.err.printf("MiniLM %s (K %d, %d calibration tokens) %s%s: held-out output error GPTQ %.4e vs RTN %.4e, ratio %.3f%n",
                            node, k, fit.rows, g.weight().describe(), act ? " act-order" : "", eG, eR, eG / eR);
                    // 8-bit per channel on the FFN down projection gains least (measured 0.90): its K = 1536 exceeds
                    // the calibration tokens, so part of what GPTQ fits does not carry over to held-out sentences
                    double bound = bits == 4 ? 0.7 : 0.95;
                    assertTrue(eG < bound * eR, node + " " + g.weight().describe() + ": GPTQ " + eG + " vs RTN " + eR + ", ratio " + eG / eR);
                }
            }
        }
    }
}
