package dev.tamp.cli.support;

import dev.tamp.core.Version;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.core.ir.ProvenanceStep;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Provenance steps recorded into packs: the source checkpoint (name and content hash) and each command. */
public final class Provenance {
    private Provenance() {}

    /** Set while a recipe runs a step: "recipe-name#step", recorded with every step the command writes. */
    private static final ThreadLocal<String> RECIPE_STEP = new ThreadLocal<>();

    public static ProvenanceStep step(String name, Map<String, String> options) {
        String recipe = RECIPE_STEP.get();
        if (recipe == null) return new ProvenanceStep(name, options, Version.PRODUCER);
        Map<String, String> o = new LinkedHashMap<>(options);
        o.put("recipe", recipe);
        return new ProvenanceStep(name, o, Version.PRODUCER);
    }

    /** Runs {@code body} with its provenance steps marked as step {@code index} of the named recipe. */
    public static <T> T inRecipe(String recipe, int index, java.util.function.Supplier<T> body) {
        RECIPE_STEP.set(recipe + "#" + index);
        try {
            return body.get();
        } finally {
            RECIPE_STEP.remove();
        }
    }

    /**
     * Adds a "source" step naming the checkpoint by file name and SHA-256 (never its absolute path, so the
     * same checkpoint anywhere gives the same pack). A .tpk already carries its history.
     */
    public static Model recordSource(Model m, Path path) {
        if (m.format() == ModelFormat.TPK) return m;
        Map<String, String> o = new LinkedHashMap<>();
        o.put("file", path.getFileName().toString());
        o.put("format", m.format().id());
        o.put("sha256", sha256(path));
        return m.withStep(new ProvenanceStep("source", o, Version.PRODUCER));
    }

    /** SHA-256 of a file, or of a directory's regular files (sorted by relative path, names included). */
    public static String sha256(Path path) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            if (Files.isDirectory(path)) {
                List<Path> files;
                try (Stream<Path> s = Files.walk(path)) {
                    files = s.filter(Files::isRegularFile).sorted().toList();
                }
                for (Path f : files) {
                    md.update(path.relativize(f).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    digest(md, f);
                }
            } else {
                digest(md, path);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw BadInputException.inFile(path, "cannot read: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void digest(MessageDigest md, Path f) throws IOException {
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(f)) {
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
    }
}
