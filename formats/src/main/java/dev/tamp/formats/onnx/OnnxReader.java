package dev.tamp.formats.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.TampException;
import dev.tamp.core.ir.Graph;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.io.CheckpointReader;
import dev.tamp.formats.io.FileRegions;
import dev.tamp.formats.io.MessageText;
import dev.tamp.formats.onnx.proto.OnnxProto.GraphProto;
import dev.tamp.formats.onnx.proto.OnnxProto.ModelProto;
import dev.tamp.formats.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.tamp.formats.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.tamp.formats.onnx.proto.OnnxProto.TensorProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads an ONNX model ({@code *.onnx}) into the IR: graph, initializers as dense weights in file order,
 * opsets, model fields as config, an architecture guess, and the tokenizer found beside the file.
 *
 * <p>The file is memory-mapped and decoded with aliasing. protobuf-java 4.x has no decoder that reads a
 * mapped buffer in place, so the protobuf (at most 2 GiB) is copied onto the heap once and inline
 * initializers are views of that copy — one copy, not two. Weights stored as external data stay
 * memory-mapped. Protobuf's nesting limit (100) stays at its default, so deeply nested input fails with a
 * clean error rather than a stack overflow.
 */
public final class OnnxReader implements CheckpointReader {
    private static final Pattern LAYER = Pattern.compile("(?:layer|layers|h|blocks)[._/](\\d{1,6})[._/]");

    @Override
    public boolean accepts(Path path) {
        return Files.isRegularFile(path) && path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx");
    }

    @Override
    public Model read(Path path, Progress progress) {
        return MessageText.oneLine(() -> readModel(path, progress));
    }

    private Model readModel(Path path, Progress progress) {
        ModelProto mp = parse(path);
        if (!mp.hasGraph()) throw BadInputException.inFile(path, "ONNX model has no graph");
        Path baseDir = path.toAbsolutePath().getParent();
        GraphProto gp = mp.getGraph();
        Graph graph;
        Map<String, EncodedTensor> weights = new LinkedHashMap<>();
        try {
            graph = OnnxGraphs.fromProto(gp, path, baseDir, false);
            progress.begin("read ONNX initializers", gp.getInitializerCount());
            for (int i = 0; i < gp.getInitializerCount(); i++) {
                TensorProto t = gp.getInitializer(i);
                if (t.getName().isEmpty()) throw BadInputException.inFile(path, "initializer " + i + " has no name");
                if (weights.put(t.getName(), new DenseWeight(OnnxTensors.toTensor(t, path, baseDir))) != null) {
                    throw BadInputException.inFile(path, "initializer '" + OnnxTensors.oneLine(t.getName()) + "' is defined twice");
                }
                progress.update(i + 1, null);
            }
            progress.end();
        } catch (TampException e) {
            throw e;
        } catch (RuntimeException e) {
            throw BadInputException.inFile(path, "malformed ONNX model: " + OnnxTensors.oneLine(e.toString()), e);
        }
        Map<String, Object> config = config(mp);
        String arch = guessArchitecture(weights, config);
        return new Model(ModelFormat.ONNX, path.toString(), arch, graph, weights, config, opsets(mp), readTokenizer(path),
                List.of());
    }

    /** Opset imports, domain → version; the default domain is "" (files may spell it "ai.onnx"). */
    static Map<String, Long> opsets(ModelProto mp) {
        Map<String, Long> opsets = new LinkedHashMap<>();
        for (OperatorSetIdProto o : mp.getOpsetImportList()) {
            opsets.put(o.getDomain().equals("ai.onnx") ? "" : o.getDomain(), o.getVersion());
        }
        return opsets;
    }

    /** Model-level fields as strings; metadata_props as "metadata.KEY" (the safetensors reader's convention). */
    private static Map<String, Object> config(ModelProto mp) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("ir_version", Long.toString(mp.getIrVersion()));
        if (mp.hasProducerName()) config.put("producer_name", mp.getProducerName());
        if (mp.hasProducerVersion()) config.put("producer_version", mp.getProducerVersion());
        if (mp.hasDomain()) config.put("domain", mp.getDomain());
        if (mp.hasModelVersion()) config.put("model_version", Long.toString(mp.getModelVersion()));
        if (mp.hasDocString() && !mp.getDocString().isEmpty()) config.put("doc_string", mp.getDocString());
        for (StringStringEntryProto e : mp.getMetadataPropsList()) config.put("metadata." + e.getKey(), e.getValue());
        return config;
    }

    static ModelProto parse(Path path) {
        long size = FileRegions.size(path);
        if (size == 0) throw BadInputException.inFile(path, "empty file");
        if (size > Integer.MAX_VALUE) {
            throw BadInputException.inFile(path, "ONNX protobuf larger than 2 GiB (" + size + " bytes): store weights as external data");
        }
        ByteBuffer buf = FileRegions.map(path, 0, size);
        try {
            // protobuf-java 4.x decodes a direct buffer by copying it once into a private array; with aliasing,
            // every raw_data then is a view of that array instead of a second copy.
            CodedInputStream in = CodedInputStream.newInstance(buf);
            in.enableAliasing(true);
            in.setSizeLimit(Integer.MAX_VALUE);
            ModelProto mp = ModelProto.parseFrom(in);
            in.checkLastTagWas(0);
            return mp;
        } catch (InvalidProtocolBufferException e) {
            throw BadInputException.inFile(path, "not a valid ONNX model (truncated or corrupt protobuf: "
                    + OnnxTensors.oneLine(String.valueOf(e.getMessage())) + ")", e);
        } catch (IOException | RuntimeException e) {
            throw BadInputException.inFile(path, "not a valid ONNX model: " + OnnxTensors.oneLine(e.toString()), e);
        } catch (StackOverflowError e) {
            throw BadInputException.inFile(path, "ONNX model nested too deeply");
        }
    }

    /** "bert" for BERT-style encoders (by weight names and shapes), else "unknown"; fills config hints. */
    static String guessArchitecture(Map<String, EncodedTensor> weights, Map<String, Object> config) {
        boolean wordEmbeddings = false;
        boolean bertLayout = false;
        TreeSet<Integer> layers = new TreeSet<>();
        for (Map.Entry<String, EncodedTensor> e : weights.entrySet()) {
            String n = e.getKey();
            if (n.contains("encoder.layer.") || n.contains("embeddings.position_embeddings")
                    || n.contains("embeddings.token_type_embeddings")) {
                bertLayout = true;
            }
            // "embeddings.word_embeddings.weight", or "..._quantized" in ORT-quantized exports.
            if (n.contains("embeddings.word_embeddings.weight") && !n.endsWith("_scale") && !n.endsWith("_zero_point")) {
                wordEmbeddings = true;
                long[] s = e.getValue().shape();
                if (s.length == 2) {
                    config.put("vocab_size", s[0]);
                    config.put("hidden_size", s[1]);
                }
            }
            Matcher m = LAYER.matcher(n);
            if (m.find()) layers.add(Integer.parseInt(m.group(1)));
        }
        if (!layers.isEmpty()) config.put("num_hidden_layers", layers.last() + 1);
        return wordEmbeddings && bertLayout ? "bert" : "unknown";
    }

    /**
     * The tokenizer beside the model: {@code tokenizer.json} (Hugging Face layout), else
     * {@code <stem>-tokenizer.json} (the layout of the langchain4j model jars), else null.
     */
    static byte[] readTokenizer(Path model) {
        Path abs = model.toAbsolutePath();
        String stem = abs.getFileName().toString().replaceFirst("(?i)\\.onnx$", "");
        for (Path tok : List.of(abs.resolveSibling("tokenizer.json"), abs.resolveSibling(stem + "-tokenizer.json"))) {
            if (!Files.isRegularFile(tok)) continue;
            try {
                return Files.readAllBytes(tok);
            } catch (IOException e) {
                throw BadInputException.inFile(tok, "cannot read: " + e.getMessage(), e);
            }
        }
        return null;
    }
}
