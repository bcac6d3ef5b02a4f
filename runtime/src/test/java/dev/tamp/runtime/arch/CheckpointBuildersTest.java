package dev.tamp.runtime.arch;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.Node;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.gguf.GgmlType;
import dev.tamp.formats.gguf.GgufNames;
import dev.tamp.formats.gguf.GgufWriter;
import dev.tamp.formats.safetensors.SafetensorsWriter;
import dev.tamp.runtime.RuntimeTestModels;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.exec.Session;
import dev.tamp.runtime.pipeline.Generator;
import dev.tamp.runtime.value.Value;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same real weights through every checkpoint route must give the same model: stories260K as llama2.c,
 * as a Hugging Face safetensors directory (with Q/K permuted to HF's rotate-half RoPE layout, as HF's
 * conversion does) and as GGUF; and MiniLM's ONNX weights as a HF BERT checkpoint built by our BERT builder.
 */
class CheckpointBuildersTest {
    @TempDir Path tmp;
    static final long[][] TOKENS = {{1, 403, 407, 261, 378, 395, 416, 280, 292}};

    static float[][][] logits(Model m) {
        try (Generator g = new Generator(ArchitectureBuilders.ensureGraph(m), new JavaBackend())) {
            return g.logits(TOKENS, ExecutionListener.NONE);
        }
    }

    static double maxDiff(float[][][] a, float[][][] b) {
        double d = 0;
        for (int t = 0; t < a[0].length; t++) for (int v = 0; v < a[0][t].length; v++) d = Math.max(d, Math.abs(a[0][t][v] - b[0][t][v]));
        return d;
    }

    /** Meta's interleaved rows (2i, 2i+1) of each head → HF's halves (i, i + hd/2). */
    static Tensor toHfRope(Tensor w, int heads) {
        long[] s = w.shape();
        int rows = (int) s[0], cols = (int) s[1], hd = rows / heads;
        float[] in = w.toFloatArray(), out = new float[in.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < hd / 2; i++) {
                System.arraycopy(in, (h * hd + 2 * i) * cols, out, (h * hd + i) * cols, cols);
                System.arraycopy(in, (h * hd + 2 * i + 1) * cols, out, (h * hd + hd / 2 + i) * cols, cols);
            }
        }
        return Tensor.ofFloats(out, s);
    }

    @Test
    void storiesAsSafetensorsDirectoryAndGgufGiveTheSameLogits() throws Exception {
        Model raw = RuntimeTestModels.stories();
        float[][][] want = logits(raw);
        int heads = ((Number) raw.config().get("num_attention_heads")).intValue();
        int kvHeads = ((Number) raw.config().get("num_key_value_heads")).intValue();
        Map<String, Tensor> hf = new LinkedHashMap<>();
        List<GgufWriter.TensorData> gguf = new ArrayList<>();
        for (Map.Entry<String, EncodedTensor> e : raw.weights().entrySet()) {
            Tensor t = ((DenseWeight) e.getValue()).tensor();
            String n = e.getKey();
            hf.put(n, n.endsWith("q_proj.weight") ? toHfRope(t, heads) : n.endsWith("k_proj.weight") ? toHfRope(t, kvHeads) : t);
            ByteBuffer b = ByteBuffer.allocate((int) t.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            b.put(t.data());
            gguf.add(new GgufWriter.TensorData(GgufNames.fromHf(n), GgmlType.F32, t.shape(), b.array()));
        }
        Path dir = Files.createDirectories(tmp.resolve("hf"));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), hf, Map.of("format", "pt"));
        Files.writeString(dir.resolve("config.json"), "{\"architectures\":[\"LlamaForCausalLM\"],\"model_type\":\"llama\",\"hidden_size\":64,"
                + "\"intermediate_size\":172,\"num_hidden_layers\":5,\"num_attention_heads\":8,\"num_key_value_heads\":4,\"vocab_size\":512,"
                + "\"max_position_embeddings\":512,\"rms_norm_eps\":1e-05,\"rope_theta\":10000.0,\"tie_word_embeddings\":true}");
        double dHf = maxDiff(want, logits(ModelLoader.load(dir, Progress.NONE)));
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("general.architecture", "llama");
        meta.put("llama.embedding_length", 64L);
        meta.put("llama.feed_forward_length", 172L);
        meta.put("llama.block_count", 5L);
        meta.put("llama.attention.head_count", 8L);
        meta.put("llama.attention.head_count_kv", 4L);
        meta.put("llama.context_length", 512L);
        meta.put("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        Path g = tmp.resolve("stories.gguf");
        GgufWriter.write(g, meta, gguf);
        double dGguf = maxDiff(want, logits(ModelLoader.load(g, Progress.NONE)));
        System.err.printf("stories260K via safetensors+config.json: max |Δ logit| %.3g; via GGUF: %.3g%n", dHf, dGguf);
        assertTrue(dHf < 1e-4, "HF route " + dHf);
        assertTrue(dGguf < 1e-4, "GGUF route " + dGguf);
    }

    @Test
    void miniLmWeightsAsHfBertCheckpointMatchTheOnnxGraph() throws Exception {
        Model onnx = RuntimeTestModels.miniLm();
        Map<String, Tensor> hf = new LinkedHashMap<>();
        for (Map.Entry<String, EncodedTensor> e : onnx.weights().entrySet()) {
            if (!e.getKey().startsWith("onnx::")) hf.put(e.getKey(), ((DenseWeight) e.getValue()).tensor());
        }
        // MatMul weights are anonymous in the export: name them after their node, transposed to [out][in]
        for (Node n : onnx.graph().nodes()) {
            if (n.opType().equals("MatMul") && n.inputs().get(1).startsWith("onnx::")) {
                String hfName = n.name().replaceFirst("^/", "").replace("/MatMul", "").replace('/', '.') + ".weight";
                Tensor kn = ((DenseWeight) onnx.weights().get(n.inputs().get(1))).tensor();
                int k = (int) kn.dim(0), nn = (int) kn.dim(1);
                float[] a = kn.toFloatArray(), t = new float[a.length];
                for (int p = 0; p < k; p++) for (int j = 0; j < nn; j++) t[j * k + p] = a[p * nn + j];
                hf.put(hfName, Tensor.ofFloats(t, nn, k));
            }
        }
        Path dir = Files.createDirectories(tmp.resolve("bert"));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), hf, Map.of());
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"bert\",\"hidden_size\":384,\"num_attention_heads\":12,"
                + "\"num_hidden_layers\":6,\"intermediate_size\":1536,\"vocab_size\":30522,\"max_position_embeddings\":512,"
                + "\"type_vocab_size\":2,\"layer_norm_eps\":1e-12,\"hidden_act\":\"gelu\"}");
        Model built = ArchitectureBuilders.ensureGraph(ModelLoader.load(dir, Progress.NONE));
        long[] ids = {101, 1996, 4937, 2938, 2006, 1996, 13523, 1012, 102, 0, 101, 2023, 2003, 1037, 3231, 1012, 102, 0};
        long[] mask = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0};
        Map<String, Value> in = new HashMap<>();
        in.put("input_ids", Value.longs(ids, 2, 9));
        in.put("attention_mask", Value.longs(mask, 2, 9));
        in.put("token_type_ids", Value.longs(new long[18], 2, 9));
        Value want, got;
        try (Session s = new JavaBackend().open(onnx)) {
            want = s.run(in).get(onnx.graph().outputs().get(0).name());
        }
        try (Session s = new JavaBackend().open(built)) {
            got = s.run(in).get("last_hidden_state");
        }
        assertArrayEquals(want.shape, got.shape);
        double d = 0;
        for (int i = 0; i < want.size(); i++) if (mask[i / 384] == 1) d = Math.max(d, Math.abs(want.floats[i] - got.floats[i]));
        System.err.printf("MiniLM as HF BERT safetensors: max |Δ| %.3g vs the ONNX graph%n", d);
        assertTrue(d < 1e-4, "max |Δ| " + d);
    }
}
