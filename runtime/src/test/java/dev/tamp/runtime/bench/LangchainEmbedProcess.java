package dev.tamp.runtime.bench;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The peer of {@code tamp run minilm --input FILE} in scripts/bench.sh embed-process: langchain4j's all-MiniLM-L6-v2 on ONNX
 * Runtime embedding every line of FILE (embedAll), as a whole process; the script times the process, this prints the
 * in-process part. Args: FILE.
 */
public final class LangchainEmbedProcess {
    public static void main(String[] args) throws Exception {
        List<String> lines = Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8);
        long t0 = System.nanoTime();
        EmbeddingModel m = new AllMiniLmL6V2EmbeddingModel();
        long t1 = System.nanoTime();
        int n = m.embedAll(lines.stream().map(TextSegment::from).toList()).content().size();
        long t2 = System.nanoTime();
        System.out.printf(Locale.ROOT, "{\"bench\":\"embed-process-inner\",\"runtime\":\"langchain4j-ort\",\"sentences\":%d,\"load_ms\":%.0f,\"embed_ms\":%.0f}%n",
                n, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    }
}
