package dev.tamp.formats.llama2c;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.io.CheckpointReader;
import dev.tamp.formats.io.FileRegions;
import dev.tamp.formats.io.MessageText;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads Karpathy's llama2.c checkpoints: a 7-int32 header (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 * vocab_size — negative when the classifier is not shared —, seq_len), then float32 weights grouped by kind
 * across layers. Tensors get Hugging Face Llama names and [out][in] shapes (llama2.c already stores W as
 * out×in), so every Llama checkpoint looks alike to the graph builder. llama2.c keeps Meta's interleaved
 * RoPE pairs; the config says so ({@code rope_interleaved}).
 */
public final class Llama2cReader implements CheckpointReader {
    static final int HEADER = 28;
    /** "ak42" read as a little-endian int: the versioned export (v1 fp32, v2 int8) that this reader does not read. */
    static final int VERSIONED_MAGIC = 0x616b3432;

    @Override
    public boolean accepts(Path path) {
        if (!Files.isRegularFile(path) || !path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".bin")) return false;
        byte[] m = FileRegions.magic(path, 4);
        return !(m.length >= 2 && m[0] == 'P' && m[1] == 'K'); // zip archives are PyTorch files
    }

    @Override
    public Model read(Path path, Progress progress) {
        return MessageText.oneLine(() -> readModel(path, progress));
    }

    private Model readModel(Path path, Progress progress) {
        long size = FileRegions.size(path);
        if (size == 0) throw BadInputException.inFile(path, "empty file");
        if (size < HEADER) throw BadInputException.inFile(path, "truncated llama2.c checkpoint (" + size + " bytes)");
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer h = FileRegions.map(path, ch, 0, HEADER);
            if (h.getInt(0) == VERSIONED_MAGIC) {
                throw new UnsupportedModelException(path + ": llama2.c export version " + h.getInt(4)
                        + " (\"ak42\" header) is not supported; export with the legacy format (version 0)");
            }
            int dim = h.getInt(0), hidden = h.getInt(4), layers = h.getInt(8), heads = h.getInt(12), kvHeads = h.getInt(16);
            int vocabRaw = h.getInt(20), seqLen = h.getInt(24);
            boolean shared = vocabRaw > 0;
            int vocab = Math.abs(vocabRaw);
            if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocab <= 0 || seqLen <= 0
                    || vocabRaw == Integer.MIN_VALUE || dim % heads != 0 || heads % kvHeads != 0 || (dim / heads) % 2 != 0) {
                throw BadInputException.inFile(path, "not a llama2.c checkpoint: implausible header (dim " + dim + ", hidden " + hidden
                        + ", layers " + layers + ", heads " + heads + ", kv heads " + kvHeads + ", vocab " + vocabRaw + ", seq " + seqLen
                        + "; all must be positive, heads must divide dim into even head sizes, kv heads must divide heads)");
            }
            long headSize = dim / heads, kvDim = headSize * kvHeads;
            long withoutFreq, withFreq, freq;
            try {
                // All in exact arithmetic: a lying header must not wrap around to a plausible size.
                long perLayer = Math.addExact(Math.addExact(2L * dim, Math.multiplyExact(2L * dim, (long) dim)),
                        Math.addExact(Math.multiplyExact(2L * dim, kvDim), Math.multiplyExact(3L * dim, (long) hidden)));
                long embed = Math.multiplyExact((long) vocab, (long) dim);
                long floats = Math.addExact(Math.addExact(embed, Math.multiplyExact((long) layers, perLayer)), dim + (shared ? 0 : embed));
                freq = Math.multiplyExact((long) seqLen, headSize); // freq_cis_real + freq_cis_imag, each seq_len × head_size/2
                withoutFreq = Math.addExact(HEADER, Math.multiplyExact(4L, floats));
                withFreq = Math.addExact(withoutFreq, Math.multiplyExact(4L, freq));
            } catch (ArithmeticException e) {
                throw BadInputException.inFile(path, "llama2.c header declares an impossible model size (dim " + dim + ", layers " + layers
                        + ", vocab " + vocabRaw + ")");
            }
            if (size < withoutFreq) {
                throw BadInputException.inFile(path, "truncated llama2.c checkpoint: the header implies " + withoutFreq
                        + " bytes (" + withFreq + " with the freq_cis tables), the file has " + size);
            }
            if (size != withFreq && size != withoutFreq) {
                throw BadInputException.inFile(path, "llama2.c header implies " + withoutFreq + " or " + withFreq
                        + " bytes (with freq_cis), the file has " + size + " (not a legacy llama2.c checkpoint or a wrong header)");
            }
            boolean hasFreq = size == withFreq;
            Map<String, EncodedTensor> w = new LinkedHashMap<>();
            Cursor c = new Cursor(path, ch, HEADER);
            w.put("model.embed_tokens.weight", c.next(vocab, dim));
            perLayer(c, w, layers, "input_layernorm.weight", dim);
            perLayer(c, w, layers, "self_attn.q_proj.weight", dim, dim);
            perLayer(c, w, layers, "self_attn.k_proj.weight", kvDim, dim);
            perLayer(c, w, layers, "self_attn.v_proj.weight", kvDim, dim);
            perLayer(c, w, layers, "self_attn.o_proj.weight", dim, dim);
            perLayer(c, w, layers, "post_attention_layernorm.weight", dim);
            perLayer(c, w, layers, "mlp.gate_proj.weight", hidden, dim);
            perLayer(c, w, layers, "mlp.down_proj.weight", dim, hidden);
            perLayer(c, w, layers, "mlp.up_proj.weight", hidden, dim);
            w.put("model.norm.weight", c.next(dim));
            if (hasFreq) c.skip(4 * freq);
            if (!shared) w.put("lm_head.weight", c.next(vocab, dim));
            Map<String, Object> cfg = new LinkedHashMap<>();
            cfg.put("model_type", "llama");
            cfg.put("hidden_size", (long) dim);
            cfg.put("intermediate_size", (long) hidden);
            cfg.put("num_hidden_layers", (long) layers);
            cfg.put("num_attention_heads", (long) heads);
            cfg.put("num_key_value_heads", (long) kvHeads);
            cfg.put("vocab_size", (long) vocab);
            cfg.put("max_position_embeddings", (long) seqLen);
            cfg.put("rms_norm_eps", 1e-5);
            cfg.put("rope_theta", 10000.0);
            cfg.put("rope_interleaved", true);
            cfg.put("tie_word_embeddings", shared);
            return new Model(ModelFormat.LLAMA2C, path.toString(), "llama", null, w, cfg, Map.of(), null, List.of());
        } catch (IOException e) {
            throw BadInputException.inFile(path, "cannot read: " + e.getMessage(), e);
        }
    }

    private static void perLayer(Cursor c, Map<String, EncodedTensor> w, int layers, String suffix, long... shape) {
        for (int l = 0; l < layers; l++) w.put("model.layers." + l + "." + suffix, c.next(shape));
    }

    /** Walks the file, mapping one float32 tensor after another. */
    private static final class Cursor {
        private final Path path;
        private final FileChannel ch;
        private long pos;

        Cursor(Path path, FileChannel ch, long pos) {
            this.path = path;
            this.ch = ch;
            this.pos = pos;
        }

        DenseWeight next(long... shape) {
            long bytes = 4 * Tensor.numel(shape);
            ByteBuffer b = FileRegions.map(path, ch, pos, bytes);
            pos += bytes;
            return new DenseWeight(Tensor.of(DType.F32, shape, b));
        }

        void skip(long bytes) {
            pos += bytes;
        }
    }
}
