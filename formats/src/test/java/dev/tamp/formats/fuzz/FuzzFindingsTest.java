package dev.tamp.formats.fuzz;

import static dev.tamp.formats.ReaderAssertions.assertBadInput;
import static dev.tamp.formats.ReaderAssertions.assertUnsupported;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.ir.Model;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.TpkModelReader;
import dev.tamp.formats.pytorch.PyTorchReader;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One regression test per reader bug the fuzzer found, each on the input that exposed it (now rejected cleanly). */
class FuzzFindingsTest {
    @TempDir Path tmp;

    // ---- PyTorch: views whose element count is not backed by their storage

    private Path pytorch(String name, int tensor, long[] size, long[] stride) throws IOException {
        List<PyTorchSeeds.T> ts = new ArrayList<>(PyTorchSeeds.tensors());
        PyTorchSeeds.T t = ts.get(tensor);
        ts.set(tensor, new PyTorchSeeds.T(t.name(), t.storageType(), t.key(), t.numel(), t.offset(), size, stride));
        return Files.write(tmp.resolve(name), PyTorchSeeds.zip(PyTorchSeeds.pickle(ts, 0, false), false));
    }

    /** Was IllegalArgumentException "capacity < 0": numel × 2 bytes wrapped negative and passed the 2 GiB check. */
    @Test
    void pytorchViewWhoseByteSizeOverflowsIsUnsupported() throws IOException {
        Path p = pytorch("overflow.pt", 2, new long[] {Long.MAX_VALUE}, new long[] {0});
        assertUnsupported(p, () -> new PyTorchReader().read(p, Progress.NONE), "tensor b", "2 GiB");
    }

    /** Was BufferOverflowException: 3 × 2^61 elements × 4 bytes wrapped to a small positive buffer size. */
    @Test
    void pytorchViewWhoseByteSizeWrapsSmallIsUnsupported() throws IOException {
        Path p = pytorch("wrap.pt", 1, new long[] {3, 1L << 61}, new long[] {0, 0});
        assertUnsupported(p, () -> new PyTorchReader().read(p, Progress.NONE), "tensor wt");
    }

    /** A 3 KB file whose stride-0 view asked for a 512 MiB copy: refused before allocating. */
    @Test
    void pytorchExpandedViewIsRefusedBeforeCopying() throws IOException {
        Path p = pytorch("expanded.pt", 1, new long[] {2, 1L << 26}, new long[] {0, 0});
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        assertUnsupported(p, () -> new PyTorchReader().read(p, Progress.NONE), "tensor wt", "expanded view", "134217728 elements");
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 16 << 20, "allocated " + (allocated >> 20) + " MiB for a " + Files.size(p) + "-byte file");
        // a transposed view (same element count as its storage) is still copied correctly
        Path ok = pytorch("transposed.pt", 1, new long[] {3, 2}, new long[] {1, 3});
        assertEquals(6, ((dev.tamp.core.encoding.DenseWeight) new PyTorchReader().read(ok, Progress.NONE).weights().get("wt")).tensor().numel());
    }

    // ---- .tpk: structure behind valid checksums

    private static byte[] seed = TpkSeeds.seed();

    private static int entry(byte[] s, String name) {
        ByteBuffer h = ByteBuffer.wrap(s).order(ByteOrder.LITTLE_ENDIAN);
        long tableOff = h.getLong(64), strOff = h.getLong(48);
        for (int i = 0; i < h.getInt(72); i++) {
            int base = (int) (tableOff + 128L * i);
            int off = h.getInt(base), len = h.getInt(base + 4);
            if (new String(s, (int) strOff + off, len, StandardCharsets.UTF_8).equals(name)) return base;
        }
        throw new AssertionError("no entry " + name);
    }

    private Path tpk(String name, byte[] bytes) throws IOException {
        return Files.write(tmp.resolve(name), bytes);
    }

    private Path tpkWithMetadata(String name, Consumer<ObjectNode> edit) throws IOException {
        ByteBuffer h = ByteBuffer.wrap(seed).order(ByteOrder.LITTLE_ENDIAN);
        ObjectNode meta = (ObjectNode) Json.parse(java.util.Arrays.copyOfRange(seed, (int) h.getLong(32), (int) (h.getLong(32) + h.getLong(40))));
        edit.accept(meta);
        return tpk(name, TpkSeeds.withMetadata(seed, Json.canonicalBytes(meta)));
    }

    private static Model readTpk(Path p) {
        return new TpkModelReader().read(p, Progress.NONE);
    }

    /** Was accepted: an int4 entry with block (K) axis 255 reached the kernels. */
    @Test
    void tpkKAxisOutsideTheMatrixIsRejected() throws IOException {
        Path p = tpk("kaxis.tpk", TpkSeeds.reseal(Mutations.put(seed, entry(seed, "int4") + 52, 1, 255)));
        assertBadInput(p, () -> readTpk(p), "tensor int4 is inconsistent", "K axis 255");
    }

    /** Was accepted: an int8 entry's K enlarged to 3625 while its codes plane kept 32 bytes. */
    @Test
    void tpkCodesPlaneSmallerThanTheShapeIsRejected() throws IOException {
        Path p = tpk("codes.tpk", TpkSeeds.reseal(Mutations.put(seed, entry(seed, "int8") + 24, 8, 3625)));
        assertBadInput(p, () -> readTpk(p), "tensor int8 is inconsistent", "codes plane of 32 bytes");
        Path mx = tpk("mx.tpk", TpkSeeds.reseal(Mutations.put(seed, entry(seed, "mx") + 16, 8, 3)));
        assertBadInput(mx, () -> readTpk(mx), "tensor mx is inconsistent");
        Path lowRank = tpk("lowrank.tpk", TpkSeeds.reseal(Mutations.put(seed, entry(seed, "lowrank") + 16, 8, 5)));
        assertBadInput(lowRank, () -> readTpk(lowRank), "tensor lowrank is inconsistent", "factors");
    }

    /** Was ArithmeticException from Tensor.numel: a metadata scales_shape whose product overflows. */
    @Test
    void tpkMetadataShapeThatOverflowsIsRejected() throws IOException {
        Path p = tpkWithMetadata("overflow.tpk", m -> ((com.fasterxml.jackson.databind.node.ArrayNode)
                m.with("encodings").with("int4").withArray("scales_shape")).removeAll().add(Long.MAX_VALUE).add(2));
        assertBadInput(p, () -> readTpk(p), "int4", "impossible size");
    }

    /** A shape given as an object, and other wrongly typed parameters, fail before the decoder reads them. */
    @Test
    void tpkEncodingParametersOfTheWrongTypeAreRejected() throws IOException {
        Path shape = tpkWithMetadata("shape.tpk", m -> m.with("encodings").with("int4").putObject("scales_shape"));
        assertBadInput(shape, () -> readTpk(shape), "int4", "scales_shape that is not an array");
        Path neg = tpkWithMetadata("neg.tpk", m -> m.with("encodings").with("int4").putArray("scales_shape").add(-3).add(2));
        assertBadInput(neg, () -> readTpk(neg), "int4", "invalid scales_shape dimension -3");
        Path anchor = tpkWithMetadata("anchor.tpk", m -> m.with("encodings").with("mx").put("anchor", 7));
        assertBadInput(anchor, () -> readTpk(anchor), "mx", "anchor");
        Path bits = tpkWithMetadata("bits.tpk", m -> m.with("encodings").with("int8").put("activation_bits", "8"));
        assertBadInput(bits, () -> readTpk(bits), "int8", "activation_bits");
    }

    /** Was NullPointerException in TpkModelReader: the model description without a config object. */
    @Test
    void tpkModelDescriptionOfTheWrongTypeIsRejectedAndAbsentConfigIsEmpty() throws IOException {
        Path notObject = tpkWithMetadata("config.tpk", m -> m.with("model").put("config", 5));
        assertBadInput(notObject, () -> readTpk(notObject), "model config is not a JSON object");
        Path opsets = tpkWithMetadata("opsets.tpk", m -> m.with("model").with("opsets").put("", "seventeen"));
        assertBadInput(opsets, () -> readTpk(opsets), "opset version");
        Path model = tpkWithMetadata("model.tpk", m -> m.put("model", "x"));
        assertBadInput(model, () -> readTpk(model), "model description is not a JSON object");
        // a pack without a config (or without any model description) reads, with an empty config
        Path noConfig = tpkWithMetadata("noconfig.tpk", m -> m.with("model").remove("config"));
        Model read = readTpk(noConfig);
        assertEquals(7, read.weights().size());
        assertFalse(read.config().containsKey("hidden_size"));
        Path bare = tpkWithMetadata("bare.tpk", m -> m.remove("model"));
        assertEquals("unknown", readTpk(bare).architecture());
    }

    /** Was a two-line message (Jackson appends the source location on a second line). */
    @Test
    void tpkMetadataThatIsNotJsonFailsOnOneLine() throws IOException {
        Path p = tpk("json.tpk", TpkSeeds.withMetadata(seed, "{\"model\" {}}".getBytes(StandardCharsets.UTF_8)));
        assertBadInput(p, () -> readTpk(p), "metadata is not JSON");
    }

    // ---- text from the file in messages: control characters made the message span lines

    /** Was a multi-line message: a corrupt zip directory's entry name (with line breaks) quoted verbatim. */
    @Test
    void zipEntryNameWithLineBreaksStaysOnOneLine() throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.util.zip.ZipOutputStream z = new java.util.zip.ZipOutputStream(bytes)) {
            z.putNextEntry(new java.util.zip.ZipEntry("archive/data\n/0"));
            z.write(new byte[8]);
        }
        byte[] b = bytes.toByteArray();
        int central = -1;
        for (int i = 0; i + 4 <= b.length; i++) if (ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(i) == 0x02014b50) central = i;
        Path p = Files.write(tmp.resolve("name.pt"), Mutations.put(b, central + 42, 4, 0x7FFFFFF0));
        assertBadInput(p, () -> new PyTorchReader().read(p, Progress.NONE), "zip entry archive/data?/0 lies outside the file");
    }

    /** A safetensors tensor name holding an escaped line break, in a header that lies about its offsets. */
    @Test
    void safetensorsTensorNameWithLineBreakStaysOnOneLine() throws IOException {
        Path p = Files.write(tmp.resolve("name.safetensors"), SafetensorsSeeds.file(
                "{\"a\\nb\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,80]}}", new byte[8]));
        assertBadInput(p, () -> new dev.tamp.formats.safetensors.SafetensorsReader().read(p, Progress.NONE), "tensor a?b");
    }

    /** A GGUF tensor name with a line break and a NUL, on a tensor whose offset lies outside the file. */
    @Test
    void ggufTensorNameWithControlCharactersStaysOnOneLine() throws IOException {
        Mutations.Le le = GgufSeeds.build(3, false, "blk.0\n.attn_q\u0000.weight");
        Mutations.Field offset = le.fields.stream().filter(f -> f.name().equals("tensor1.offset")).findFirst().orElseThrow();
        Path p = Files.write(tmp.resolve("name.gguf"), Mutations.put(le.bytes(), offset.offset(), 8, 1L << 40));
        assertBadInput(p, () -> new dev.tamp.formats.gguf.GgufReader().read(p, Progress.NONE), "tensor blk.0?.attn_q?.weight");
    }

    /** Was a 128 MiB allocation: a deflated entry whose directory claims 128 MiB from a few hundred bytes. */
    @Test
    void deflatedEntryClaimingMoreThanDeflateCanHoldIsRejectedBeforeAllocating() throws IOException {
        byte[] b = PyTorchSeeds.zip(PyTorchSeeds.pickle(PyTorchSeeds.tensors(), 0, false), true);
        Mutations.Field usize = PyTorchSeeds.zipFields(b).stream().filter(f -> f.name().equals("central.usize")).findFirst().orElseThrow();
        Path p = Files.write(tmp.resolve("inflate.pt"), Mutations.put(b, usize.offset(), 4, 1 << 27));
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        assertBadInput(p, () -> new PyTorchReader().read(p, Progress.NONE), "declares 134217728 bytes", "deflated bytes can hold");
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 16 << 20, "allocated " + (allocated >> 20) + " MiB for a " + Files.size(p) + "-byte file");
    }

    /** Was accepted: an MX entry whose scales plane holds 7 bytes for 2 rows x 2 blocks. */
    @Test
    void tpkMxScalesPlaneOfTheWrongSizeIsRejected() throws IOException {
        Path p = tpk("scales.tpk", TpkSeeds.reseal(Mutations.put(seed, entry(seed, "mx") + 64 + 16, 8, 7)));
        assertBadInput(p, () -> readTpk(p), "tensor mx is inconsistent", "scales plane of 7 bytes for 4 blocks");
    }
}
