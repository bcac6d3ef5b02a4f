package dev.tamp.runtime.data;

import dev.tamp.core.error.BadInputException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Text documents for calibration and evaluation: the public-domain corpora bundled in tamp-calibration-data
 * (State of the Union addresses 1900–1989, four novels), or a user's file or directory (.txt: one document;
 * .jsonl: one document per line's "text" field).
 *
 * <p>Split [OURS]: the 1980s addresses and Sense and Sensibility are held out — never used for calibration
 * — so evaluation text is never text a method was fitted on.
 */
public final class TextCorpus {
    private static final String ROOT = "/dev/tamp/data/calibration/";

    /** One document: a name (file) and its text. */
    public record Document(String name, String text) {}

    public enum Split { CALIBRATION, HELD_OUT, ALL }

    private TextCorpus() {}

    static boolean isHeldOut(String name) {
        return name.startsWith("sotu/198") || name.equals("austen-sensesensibility.txt");
    }

    /** The bundled documents of a split, in a fixed order. */
    public static List<Document> bundled(Split split) {
        List<Document> docs = new ArrayList<>();
        for (String name : readResourceLines(ROOT + "INDEX")) {
            if (name.isBlank()) continue;
            boolean held = isHeldOut(name);
            if (split == Split.CALIBRATION && held || split == Split.HELD_OUT && !held) continue;
            docs.add(new Document(name, readResource(ROOT + name)));
        }
        return docs;
    }

    /** Documents from a user's .txt/.jsonl file or a directory of them (sorted by path). */
    public static List<Document> fromPath(Path path) {
        List<Document> docs = new ArrayList<>();
        if (Files.isDirectory(path)) {
            List<Path> files;
            try (Stream<Path> s = Files.walk(path)) {
                files = s.filter(Files::isRegularFile).filter(p -> p.toString().endsWith(".txt") || p.toString().endsWith(".jsonl"))
                        .sorted().toList();
            } catch (IOException e) {
                throw BadInputException.inFile(path, "cannot list: " + e.getMessage(), e);
            }
            if (files.isEmpty()) throw BadInputException.inFile(path, "no .txt or .jsonl files in directory");
            for (Path f : files) docs.addAll(fromPath(f));
            return docs;
        }
        if (!Files.isRegularFile(path)) throw BadInputException.inFile(path, "no such file or directory");
        String text;
        try {
            text = Files.readString(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw BadInputException.inFile(path, "cannot read as UTF-8 text: " + e.getMessage(), e);
        }
        if (path.toString().endsWith(".jsonl")) {
            int lineNo = 0;
            for (String line : text.split("\n")) {
                lineNo++;
                if (line.isBlank()) continue;
                try {
                    com.fasterxml.jackson.databind.JsonNode n = dev.tamp.core.json.Json.parse(line);
                    String t = n.path("text").asText(null);
                    if (t == null) throw BadInputException.inFile(path, "line " + lineNo + " has no \"text\" field");
                    docs.add(new Document(path.getFileName() + ":" + lineNo, t));
                } catch (IOException e) {
                    throw BadInputException.inFile(path, "line " + lineNo + " is not JSON: " + e.getMessage());
                }
            }
        } else {
            docs.add(new Document(path.getFileName().toString(), text));
        }
        if (docs.isEmpty()) throw BadInputException.inFile(path, "no text");
        return docs;
    }

    static List<String> readResourceLines(String resource) {
        return List.of(readResource(resource).split("\n"));
    }

    static String readResource(String resource) {
        try (InputStream in = TextCorpus.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("missing bundled resource " + resource + " (tamp-calibration-data)");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read bundled resource " + resource, e);
        }
    }

    /** Reads a resource line by line (for large files). */
    static BufferedReader resourceReader(String resource) {
        InputStream in = TextCorpus.class.getResourceAsStream(resource);
        if (in == null) throw new IllegalStateException("missing bundled resource " + resource + " (tamp-calibration-data)");
        return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    }
}
