package dev.tamp.quantizers.awq;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.TestModels;
import dev.tamp.quantizers.rtn.RtnOptions;
import dev.tamp.quantizers.rtn.RtnQuantizer;
import dev.tamp.runtime.arch.ArchitectureBuilders;
import dev.tamp.runtime.calib.CalibrationSource;
import dev.tamp.runtime.eval.DecoderEvaluation;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.pipeline.Generator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** AWQ on the real stories260K decoder (Llama blocks): lower KL to FP32 than RTN at the same group size. */
class AwqDecoderTest {
    @Test
    void awqHasLowerKlThanRtnOnStories260k() {
        Model fp32 = ArchitectureBuilders.ensureGraph(ModelLoader.load(TestModels.stories(), Progress.NONE));
        long[][] calib, eval;
        try (Generator g = new Generator(fp32, new JavaBackend())) {
            calib = DecoderEvaluation.sample(g, 32, 64, 1);
            eval = DecoderEvaluation.sample(g, 32, 64, 2);
        }
        CalibrationSource source = CalibrationSource.sequences(new JavaBackend(), calib);
        AwqOptions o = new AwqOptions(4, 32, false, 20, true, AwqOptions.Propagation.COMPRESSED, List.of());
        AwqQuantizer.Result awq = AwqQuantizer.quantize(fp32, source, o, Progress.NONE);
        long folded = awq.mappings().stream().filter(m -> m.route().startsWith("folded into")).count();
        assertEquals(10, folded, "q/k/v and gate/up of each of the 5 blocks fold into their RMSNorm");
        Model rtn = RtnQuantizer.quantize(fp32, new RtnOptions(4, false, 32, List.of()), Progress.NONE).model();
        double klRtn = kl(fp32, rtn, eval), klAwq = kl(fp32, awq.report().model(), eval);
        System.err.printf("stories260K W4 g32 KL to FP32 on 32×64 sampled tokens: RTN %.4f, AWQ %.4f%n", klRtn, klAwq);
        assertTrue(klAwq < 0.95 * klRtn, "AWQ KL " + klAwq + " vs RTN " + klRtn);
    }

    static double kl(Model ref, Model cand, long[][] seqs) {
        try (Generator a = new Generator(ref, new JavaBackend()); Generator b = new Generator(cand, new JavaBackend())) {
            return DecoderEvaluation.compare(a, b, seqs).meanKl();
        }
    }
}
