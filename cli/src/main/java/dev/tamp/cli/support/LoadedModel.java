package dev.tamp.cli.support;

import dev.tamp.cli.Provenance;
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
        if (tokenizerFile != null) {
            try {
                m = m.withTokenizer(Files.readAllBytes(tokenizerFile));
            } catch (IOException e) {
                throw BadInputException.inFile(tokenizerFile, "cannot read: " + e.getMessage(), e);
            }
        }
        return new LoadedModel(path, m);
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
