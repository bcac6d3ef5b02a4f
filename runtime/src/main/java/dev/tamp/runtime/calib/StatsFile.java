package dev.tamp.runtime.calib;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.io.AtomicFiles;
import dev.tamp.formats.safetensors.SafetensorsReader;
import dev.tamp.formats.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Calibration statistics on disk, so one calibration feeds several methods: a safetensors file with, per
 * observed input value {@code v}, tensors {@code v.absmax}, {@code v.sum_abs}, {@code v.sum_sq} ([K]) and
 * optionally {@code v.gram} ([K][K], F64), and metadata {@code tamp.rows.<v>}, {@code tamp.weights} (JSON:
 * weight → input) and {@code tamp.info} (JSON).
 */
public final class StatsFile {
    private StatsFile() {}

    public static void write(Path out, CalibrationStats s) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>();
        s.byInput().forEach((name, c) -> {
            tensors(name, c).forEach(t::put);
            meta.put("tamp.rows." + name, Long.toString(c.rows));
        });
        SafetensorsWriter.write(out, t, withDescription(meta, s.inputOfWeight(), s.info()));
    }

    private static Map<String, Tensor> tensors(String name, ChannelStats c) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put(name + ".absmax", Tensor.ofFloats(c.absMax, c.k));
        t.put(name + ".sum_abs", doubles(c.sumAbs, c.k));
        t.put(name + ".sum_sq", doubles(c.sumSq, c.k));
        if (c.gram != null) t.put(name + ".gram", doubles(c.gram, c.k, c.k));
        return t;
    }

    private static Map<String, String> withDescription(Map<String, String> meta, Map<String, String> inputOfWeight, Map<String, String> info) {
        meta.put("tamp.weights", new String(Json.canonicalBytes(inputOfWeight), java.nio.charset.StandardCharsets.UTF_8));
        meta.put("tamp.info", new String(Json.canonicalBytes(info), java.nio.charset.StandardCharsets.UTF_8));
        return meta;
    }

    /**
     * Writes a statistics file block by block without holding every Gram matrix at once (a 1.1B-parameter decoder's
     * are 7.8 GB in float64): each block's tensors go to a scratch file beside the output as they complete and are
     * memory-mapped back when the file is assembled. The bytes equal {@link #write} of the same statistics.
     */
    public static final class Streaming implements AutoCloseable {
        private final Path out;
        private final Path scratch;
        private final FileChannel channel;
        private record Slot(DType dtype, long[] shape, long offset, long bytes) {}

        private final Map<String, Slot> slots = new LinkedHashMap<>();
        private final Map<String, String> meta = new LinkedHashMap<>();
        private final Map<String, String> inputOfWeight = new LinkedHashMap<>();
        private long size;

        public Streaming(Path out) {
            this.out = out;
            try {
                this.scratch = AtomicFiles.temporaryBeside(out, "stats");
                this.channel = FileChannel.open(scratch, StandardOpenOption.READ, StandardOpenOption.WRITE);
            } catch (IOException e) {
                throw BadInputException.inFile(out, "cannot write beside it: " + e.getMessage());
            }
        }

        /** Adds one block's statistics (their Gram matrices may be dropped by the caller afterwards). */
        public void add(CalibrationStats block) {
            inputOfWeight.putAll(block.inputOfWeight());
            block.byInput().forEach((name, c) -> {
                tensors(name, c).forEach((tn, t) -> {
                    ByteBuffer b = t.data();
                    long at = size, n = b.remaining();
                    try {
                        while (b.hasRemaining()) channel.write(b, at + (n - b.remaining()));
                    } catch (IOException e) {
                        throw BadInputException.inFile(scratch, "cannot write statistics: " + e.getMessage());
                    }
                    size += n;
                    slots.put(tn, new Slot(t.dtype(), t.shape(), at, n));
                });
                meta.put("tamp.rows." + name, Long.toString(c.rows));
            });
        }

        /** Assembles the safetensors file (atomically) from the scratch file. */
        public void finish(Map<String, String> info) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            try {
                for (Map.Entry<String, Slot> e : slots.entrySet()) {
                    Slot sl = e.getValue();
                    t.put(e.getKey(), Tensor.of(sl.dtype(), sl.shape(), channel.map(FileChannel.MapMode.READ_ONLY, sl.offset(), sl.bytes())));
                }
            } catch (IOException e) {
                throw BadInputException.inFile(scratch, "cannot read statistics back: " + e.getMessage());
            }
            SafetensorsWriter.write(out, t, withDescription(new LinkedHashMap<>(meta), inputOfWeight, info));
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // the scratch file is removed below either way
            }
            AtomicFiles.discard(scratch);
        }
    }

    public static CalibrationStats read(Path in) {
        Model m = new SafetensorsReader().read(in, Progress.NONE);
        Object weightsJson = m.config().get("metadata.tamp.weights");
        if (weightsJson == null) throw BadInputException.inFile(in, "not a tamp statistics file (no tamp.weights metadata)");
        Map<String, String> inputOf = new LinkedHashMap<>();
        Map<String, String> info = new LinkedHashMap<>();
        try {
            JsonNode w = Json.parse(weightsJson.toString());
            w.fields().forEachRemaining(e -> inputOf.put(e.getKey(), e.getValue().asText()));
            Object i = m.config().get("metadata.tamp.info");
            if (i != null) Json.parse(i.toString()).fields().forEachRemaining(e -> info.put(e.getKey(), e.getValue().asText()));
        } catch (IOException e) {
            throw BadInputException.inFile(in, "corrupt statistics metadata: " + e.getMessage());
        }
        Map<String, ChannelStats> byInput = new LinkedHashMap<>();
        for (String name : new java.util.LinkedHashSet<>(inputOf.values())) {
            EncodedTensor absmax = m.weights().get(name + ".absmax");
            if (absmax == null) continue;
            int k = (int) absmax.shape()[0];
            boolean gram = m.weights().containsKey(name + ".gram");
            ChannelStats c = new ChannelStats(k, gram);
            System.arraycopy(((DenseWeight) absmax).tensor().toFloatArray(), 0, c.absMax, 0, k);
            copy(m, name + ".sum_abs", c.sumAbs);
            copy(m, name + ".sum_sq", c.sumSq);
            if (gram) copy(m, name + ".gram", c.gram);
            c.rows = Long.parseLong(m.config().getOrDefault("metadata.tamp.rows." + name, "0").toString());
            byInput.put(name, c);
        }
        return new CalibrationStats(byInput, inputOf, info);
    }

    private static Tensor doubles(double[] v, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(v);
        return Tensor.of(DType.F64, shape, b);
    }

    private static void copy(Model m, String name, double[] dst) {
        ByteBuffer b = ((DenseWeight) m.weights().get(name)).tensor().data();
        b.asDoubleBuffer().get(dst);
    }
}
