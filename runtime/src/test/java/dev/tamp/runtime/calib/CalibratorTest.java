package dev.tamp.runtime.calib;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.runtime.RuntimeTestModels;
import dev.tamp.runtime.data.CalibrationSampler;
import dev.tamp.runtime.data.TextCorpus;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.tokenizer.Tokenizer;
import dev.tamp.runtime.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CalibratorTest {
    @TempDir Path tmp;

    @Test
    void miniLmStatisticsAreConsistentAndRoundTrip() throws Exception {
        Model m = RuntimeTestModels.miniLm();
        Tokenizer tok = Tokenizers.fromJson(m.tokenizerJson() != null ? m.tokenizerJson()
                : getClass().getResourceAsStream("/all-minilm-l6-v2-tokenizer.json").readAllBytes());
        List<String> texts = CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.CALIBRATION), CalibrationSampler.Mode.SENTENCE, 24, 0, 0);
        long tokens = texts.stream().mapToLong(t -> tok.encode(t, 128).length()).sum();
        CalibrationStats s = Calibrator.encoder(m, new JavaBackend(), tok, texts, 128, 8, true, Progress.NONE);
        assertEquals(37, s.inputOfWeight().size(), "36 encoder linears and the pooler map to their inputs");
        assertEquals(25, s.byInput().size(), "q/k/v share one input: 4 distinct inputs per layer x 6, plus the pooler");
        for (var e : s.byInput().entrySet()) {
            ChannelStats c = e.getValue();
            if (!e.getKey().contains("pooler")) assertEquals(tokens, c.rows, "padding is excluded from statistics");
            for (int j = 0; j < c.k; j++) {
                double diag = c.gram[j * c.k + j];
                assertEquals(c.sumSq[j], diag, 1e-4 * Math.max(1, c.sumSq[j]), "diag(XᵀX) = Σx²");
                assertTrue((double) c.absMax[j] * c.absMax[j] * c.rows >= c.sumSq[j] * (1 - 1e-6), "absmax bounds the mean square");
                assertEquals(c.gram[j * c.k + (c.k - 1 - j)], c.gram[(c.k - 1 - j) * c.k + j], 1e-6 * Math.max(1, Math.abs(c.gram[j * c.k + (c.k - 1 - j)])));
            }
        }
        Path f = tmp.resolve("stats.safetensors");
        StatsFile.write(f, s);
        CalibrationStats back = StatsFile.read(f);
        assertEquals(s.inputOfWeight(), back.inputOfWeight());
        assertEquals(s.info(), back.info());
        for (var e : s.byInput().entrySet()) {
            ChannelStats a = e.getValue(), b = back.byInput().get(e.getKey());
            assertArrayEquals(a.absMax, b.absMax);
            assertArrayEquals(a.sumSq, b.sumSq);
            assertArrayEquals(a.gram, b.gram);
            assertEquals(a.rows, b.rows);
        }
        assertTrue(Files.size(f) > 0);
    }
}
