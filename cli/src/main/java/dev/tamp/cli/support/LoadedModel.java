package dev.tamp.cli.support;

import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.ModelLoader;
import dev.tamp.runtime.arch.ArchitectureBuilders;
import dev.tamp.runtime.tokenizer.Tokenizer;
import dev.tamp.runtime.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A MODEL argument made runnable: loaded, given a graph when the checkpoint has weights only, with its
 * provenance source recorded, and its tokenizer (--tokenizer FILE, else the one beside or inside the model).
 */
public final class LoadedModel {
    public final Path path;
    public final Model model;

    private LoadedModel(Path path, Model model) {
        this.path = path;
        this.model = model;
    }

    public static LoadedModel load(String spec, Path tokenizerFile, Progress progress) {
        Path path = ModelLoader.resolve(spec);
        Model m = ModelLoader.load(path, progress);
        m = Provenance.recordSource(m, path);
        m = withSentenceTransformersPooling(m, path);
        if (tokenizerFile != null) {
            try {
                m = m.withTokenizer(Files.readAllBytes(tokenizerFile));
            } catch (IOException e) {
                throw BadInputException.inFile(tokenizerFile, "cannot read: " + e.getMessage(), e);
            }
        }
        return new LoadedModel(path, m);
    }

    /**
     * A sentence-transformers checkpoint says how it pools in {@code 1_Pooling/config.json} (beside the weights,
     * or one folder up from an {@code onnx/} export); recorded in the config so packs made from it keep it.
     */
    public static Model withSentenceTransformersPooling(Model m, Path path) {
        if (m.config().containsKey("pooling")) return m;
        Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
        for (int up = 0; up < 2 && dir != null; up++, dir = dir.getParent()) {
            Path cfg = dir.resolve("1_Pooling").resolve("config.json");
            if (!Files.isRegularFile(cfg)) continue;
            com.fasterxml.jackson.databind.JsonNode j;
            try {
                j = dev.tamp.core.json.Json.mapper().readTree(cfg.toFile());
            } catch (IOException e) {
                throw BadInputException.inFile(cfg, "cannot read the sentence-transformers pooling config: " + e.getMessage(), e);
            }
            // a mode tamp cannot pool by (max, weighted mean, ...) is recorded as such and refused where pooling happens
            String mode = j.path("pooling_mode_cls_token").asBoolean(false) ? "cls"
                    : j.path("pooling_mode_mean_tokens").asBoolean(false) ? "mean"
                    : j.path("pooling_mode_max_tokens").asBoolean(false) ? "max" : "unknown";
            java.util.Map<String, Object> c = new java.util.LinkedHashMap<>(m.config());
            c.put("pooling", mode);
            return m.withConfig(c);
        }
        return m;
    }

    /** The same input with a transformed model (e.g. sliced at load time). */
    public LoadedModel with(Model m) {
        return new LoadedModel(path, m);
    }

    /** The model with a graph (built from the architecture when the checkpoint has none). */
    public Model runnable() {
        return ArchitectureBuilders.ensureGraph(model);
    }

    public boolean isDecoder() {
        Model r = runnable();
        return r.graph().outputs().stream().anyMatch(v -> v.name().equals("logits"));
    }

    public Tokenizer tokenizer() {
        if (model.tokenizerJson() == null) {
            throw new UnsupportedModelException(path + ": no tokenizer (give --tokenizer tokenizer.json, or put one beside the model)");
        }
        return Tokenizers.fromJson(model.tokenizerJson());
    }
}
