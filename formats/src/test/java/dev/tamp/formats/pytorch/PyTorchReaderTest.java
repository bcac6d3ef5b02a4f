package dev.tamp.formats.pytorch;

import static dev.tamp.formats.ReaderAssertions.assertBadInput;
import static dev.tamp.formats.ReaderAssertions.assertUnsupported;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Model;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.ReaderAssertions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PyTorch zip checkpoints produced by make_fixtures.py (real pickle streams naming torch's globals, protocols 2
 * and 4), checked against the values the script recorded; malicious pickles; legacy formats; bad input.
 */
class PyTorchReaderTest {
    @TempDir Path tmp;
    final PyTorchReader reader = new PyTorchReader();

    Path resource(String name) throws IOException {
        Path p = tmp.resolve(name);
        try (InputStream in = getClass().getResourceAsStream("/pytorch/" + name)) {
            assertNotNull(in, "fixture " + name + " (run make_fixtures.py)");
            Files.write(p, in.readAllBytes());
        }
        return p;
    }

    static DType dtype(String torchName) {
        return switch (torchName) {
            case "float32" -> DType.F32;
            case "float16" -> DType.F16;
            case "bfloat16" -> DType.BF16;
            case "float64" -> DType.F64;
            case "int64" -> DType.I64;
            case "int32" -> DType.I32;
            case "int16" -> DType.I16;
            case "int8" -> DType.I8;
            case "uint8" -> DType.U8;
            case "bool" -> DType.BOOL;
            default -> throw new AssertionError(torchName);
        };
    }

    @Test
    void stateDictsMatchTheValuesTheFixtureScriptRecorded() throws IOException {
        JsonNode expected = Json.parse(getClass().getResourceAsStream("/pytorch/expected.json").readAllBytes());
        int checked = 0;
        for (Iterator<Map.Entry<String, JsonNode>> files = expected.fields(); files.hasNext(); ) {
            Map.Entry<String, JsonNode> file = files.next();
            Model m = ModelLoader.load(resource(file.getKey()), Progress.NONE);
            assertNull(m.graph());
            List<String> names = new ArrayList<>();
            file.getValue().fieldNames().forEachRemaining(names::add);
            assertEquals(names.stream().sorted().toList(), m.weights().keySet().stream().sorted().toList(), file.getKey());
            for (String name : names) {
                JsonNode want = file.getValue().get(name);
                EncodedTensor t = m.weights().get(name);
                long[] shape = new long[want.get("shape").size()];
                for (int i = 0; i < shape.length; i++) shape[i] = want.get("shape").get(i).asLong();
                assertArrayEquals(shape, t.shape(), file.getKey() + " " + name);
                Tensor x = ((DenseWeight) t).tensor();
                assertEquals(dtype(want.get("dtype").asText()), x.dtype(), name);
                JsonNode vals = want.get("values");
                assertEquals(vals.size(), x.numel(), name);
                for (int i = 0; i < vals.size(); i++) {
                    String at = file.getKey() + " " + name + "[" + i + "]";
                    if (x.dtype() == DType.BOOL) assertEquals(vals.get(i).asBoolean() ? 1 : 0, x.data().get(i), at);
                    else if (x.dtype() == DType.I64 || x.dtype() == DType.I32 || x.dtype() == DType.I16 || x.dtype() == DType.I8 || x.dtype() == DType.U8) {
                        assertEquals(vals.get(i).asLong(), x.getLong(i), at);
                    } else if (x.dtype() == DType.F64) assertEquals(vals.get(i).asDouble(), x.data().getDouble(8 * i), 0.0, at);
                    else assertEquals(vals.get(i).asDouble(), x.getFloat(i), 0.0, at);
                    checked++;
                }
            }
        }
        assertTrue(checked > 150, "values checked: " + checked);
        // file order is pickle order
        Model small = reader.read(resource("small.pt"), Progress.NONE);
        assertEquals(List.of("layer.weight", "layer.bias", "steps"), List.copyOf(small.weights().keySet()).subList(0, 3));
    }

    @Test
    void maliciousPicklesAreRefusedByName() throws IOException {
        Path evil = resource("evil.pt");
        assertBadInput(evil, () -> ModelLoader.load(evil, Progress.NONE), "refuses to unpickle global os.system");
        Path posix = resource("evil_posix.pt");
        assertBadInput(posix, () -> reader.read(posix, Progress.NONE), "refuses to unpickle global posix.system");
        Path eval = resource("evil_eval.pt");
        assertBadInput(eval, () -> reader.read(eval, Progress.NONE), "refuses to unpickle global builtins.eval");
        Path hidden = resource("evil_in_state.pt");
        assertBadInput(hidden, () -> reader.read(hidden, Progress.NONE), "refuses to unpickle global posix.system");
    }

    @Test
    void legacyAndBigEndianFormatsAreUnsupportedWithAClearMessage() throws IOException {
        Path legacy = resource("legacy.pt");
        assertUnsupported(legacy, () -> ModelLoader.load(legacy, Progress.NONE), "legacy (pre-1.6, non-zip)");
        Path tar = resource("legacy_tar.pt");
        assertUnsupported(tar, () -> reader.read(tar, Progress.NONE), "legacy");
        Path bin = tmp.resolve("pytorch_model.bin");
        Files.copy(legacy, bin);
        assertTrue(reader.accepts(bin), "a legacy .bin is recognised as PyTorch, not llama2.c");
        Path be = resource("bigendian.pt");
        assertUnsupported(be, () -> reader.read(be, Progress.NONE), "byte order 'big'");
    }

    @Test
    void hfDirectoriesSingleAndSharded() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("hf"));
        Files.copy(resource("small.pt"), dir.resolve("pytorch_model.bin"));
        assertBadInput(dir, () -> ModelLoader.load(dir, Progress.NONE), "no config.json");
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"bert\",\"hidden_size\":4}");
        Model m = ModelLoader.load(dir, Progress.NONE);
        assertEquals("bert", m.architecture());
        assertEquals(4L, m.config().get("hidden_size"));
        assertEquals(13, m.weights().size());

        Path sharded = Files.createDirectories(tmp.resolve("sharded"));
        Files.copy(resource("small.pt"), sharded.resolve("pytorch_model-00001-of-00002.bin"));
        Files.copy(resource("nested_plain.pt"), sharded.resolve("pytorch_model-00002-of-00002.bin"));
        Files.writeString(sharded.resolve("config.json"), "{\"architectures\":[\"LlamaForCausalLM\"]}");
        Files.writeString(sharded.resolve("pytorch_model.bin.index.json"), "{\"weight_map\":{\"layer.weight\":\"pytorch_model-00001-of-00002.bin\","
                + "\"encoder.w\":\"pytorch_model-00002-of-00002.bin\"}}");
        assertTrue(reader.accepts(sharded));
        Model s = ModelLoader.load(sharded, Progress.NONE);
        assertEquals("llama", s.architecture());
        assertEquals(15, s.weights().size());
        assertArrayEquals(new long[] {12}, s.weights().get("encoder.w").shape());
        Files.writeString(sharded.resolve("pytorch_model.bin.index.json"), "{\"weight_map\":{\"a\":\"../x.bin\"}}");
        assertBadInput(sharded.resolve("pytorch_model.bin.index.json"), () -> reader.read(sharded, Progress.NONE), "outside");
    }

    /** A torch-style archive with the given data.pkl and storages (name → bytes). */
    Path archive(String name, byte[] pickle, Map<String, byte[]> storages) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            z.putNextEntry(new ZipEntry("archive/data.pkl"));
            z.write(pickle);
            for (Map.Entry<String, byte[]> e : storages.entrySet()) {
                z.putNextEntry(new ZipEntry("archive/data/" + e.getKey()));
                z.write(e.getValue());
            }
        }
        Path p = tmp.resolve(name);
        Files.write(p, bytes.toByteArray());
        return p;
    }

    /** Protocol-2 pickle of {'w': _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', numel), offset, size, stride)}. */
    static byte[] tensorPickle(int numel, int offset, int[] size, int[] stride) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(new byte[] {(byte) 0x80, 2, '}', 'X', 1, 0, 0, 0, 'w'});
        o.writeBytes("ctorch._utils\n_rebuild_tensor_v2\n(X\u0007\0\0\0storagectorch\nFloatStorage\nX\u0001\0\0\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        o.writeBytes(new byte[] {'0', 'X', 3, 0, 0, 0, 'c', 'p', 'u'});
        o.write('J'); le32(o, numel);
        o.write('t'); o.write('Q');
        o.write('J'); le32(o, offset);
        o.write('(');
        for (int s : size) { o.write('J'); le32(o, s); }
        o.write('t');
        o.write('(');
        for (int s : stride) { o.write('J'); le32(o, s); }
        o.write('t');
        o.write(0x89); // requires_grad False
        o.write('}'); // backward hooks
        o.write(0x94); // MEMOIZE (exercised in a protocol-2 stream: harmless)
        o.writeBytes(new byte[] {'t', 'R', 's', '.'});
        return o.toByteArray();
    }

    static void le32(ByteArrayOutputStream o, int v) {
        o.write(v); o.write(v >> 8); o.write(v >> 16); o.write(v >> 24);
    }

    @Test
    void handBuiltPicklesAndLyingStorages() throws IOException {
        // fix the opcode stream layout: MARK before the tuple of rebuild arguments
        byte[] ok = withArgsMark(tensorPickle(4, 0, new int[] {2, 2}, new int[] {2, 1}));
        Path good = archive("good.pt", ok, Map.of("0", new byte[16]));
        assertEquals(4, reader.read(good, Progress.NONE).parameterCount());
        Path transposed = archive("transposed.pt", withArgsMark(tensorPickle(6, 0, new int[] {3, 2}, new int[] {1, 3})),
                Map.of("0", floats(0, 1, 2, 3, 4, 5)));
        assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, ((DenseWeight) reader.read(transposed, Progress.NONE).weights().get("w")).tensor().toFloatArray());
        Path past = archive("past.pt", withArgsMark(tensorPickle(4, 2, new int[] {2, 2}, new int[] {2, 1})), Map.of("0", new byte[16]));
        assertBadInput(past, () -> reader.read(past, Progress.NONE), "reaches past its storage");
        Path shortStorage = archive("short.pt", ok, Map.of("0", new byte[12]));
        assertBadInput(shortStorage, () -> reader.read(shortStorage, Progress.NONE), "fewer than");
        Path missing = archive("missing.pt", ok, Map.of());
        assertBadInput(missing, () -> reader.read(missing, Progress.NONE), "missing storage");
        Path negSize = archive("negsize.pt", withArgsMark(tensorPickle(4, 0, new int[] {-2, 2}, new int[] {2, 1})), Map.of("0", new byte[16]));
        assertBadInput(negSize, () -> reader.read(negSize, Progress.NONE), "invalid size");
        Path hugeStride = archive("stride.pt", withArgsMark(tensorPickle(4, 0, new int[] {2, 2}, new int[] {Integer.MAX_VALUE, 1})), Map.of("0", new byte[16]));
        assertBadInput(hugeStride, () -> reader.read(hugeStride, Progress.NONE), "reaches past");
        Path hugeNumel = archive("numel.pt", withArgsMark(tensorPickle(Integer.MAX_VALUE, 0, new int[] {2, 2}, new int[] {2, 1})), Map.of("0", new byte[16]));
        assertBadInput(hugeNumel, () -> reader.read(hugeNumel, Progress.NONE), "fewer than");
        Path noPkl = archive("nopkl.pt", new byte[0], Map.of());
        Files.write(noPkl, zipOf("archive/other", new byte[3]));
        assertBadInput(noPkl, () -> reader.read(noPkl, Progress.NONE), "no data.pkl");
        Path badOp = archive("badop.pt", new byte[] {(byte) 0x80, 2, (byte) 0xF0, '.'}, Map.of());
        assertBadInput(badOp, () -> reader.read(badOp, Progress.NONE), "opcode");
        Path cut = archive("cutpickle.pt", Arrays.copyOf(ok, ok.length / 2), Map.of("0", new byte[16]));
        assertBadInput(cut, () -> reader.read(cut, Progress.NONE), "truncated or malformed");
        Path noTensors = archive("notensors.pt", new byte[] {(byte) 0x80, 2, '}', '.'}, Map.of());
        assertBadInput(noTensors, () -> reader.read(noTensors, Progress.NONE), "no tensors");
        // a dict that contains itself (via the memo) must not recurse forever
        Path cycle = archive("cycle.pt", new byte[] {(byte) 0x80, 2, '}', 'q', 0, 'X', 1, 0, 0, 0, 'a', 'h', 0, 's', '.'}, Map.of());
        assertBadInput(cycle, () -> reader.read(cycle, Progress.NONE), "contains itself");
        // a list key (unhashable in Python) is refused rather than hashed
        Path listKey = archive("listkey.pt", new byte[] {(byte) 0x80, 2, '}', ']', 'K', 1, 's', '.'}, Map.of());
        assertBadInput(listKey, () -> reader.read(listKey, Progress.NONE), "dict key");
    }

    /** tensorPickle writes the rebuild arguments' opening MARK late; insert it right after the global. */
    static byte[] withArgsMark(byte[] p) {
        String s = new String(p, java.nio.charset.StandardCharsets.ISO_8859_1);
        s = s.replace("_rebuild_tensor_v2\n(", "_rebuild_tensor_v2\n((");
        return s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    static byte[] floats(float... v) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    static byte[] zipOf(String name, byte[] content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            z.putNextEntry(new ZipEntry(name));
            z.write(content);
        }
        return bytes.toByteArray();
    }

    @Test
    void emptyTruncatedAndCorruptedFilesFailCleanly() throws IOException {
        Path empty = tmp.resolve("empty.pt");
        Files.write(empty, new byte[0]);
        assertBadInput(empty, () -> reader.read(empty, Progress.NONE), "empty");
        Path notZip = tmp.resolve("notzip.pt");
        Files.write(notZip, new byte[100]);
        assertBadInput(notZip, () -> reader.read(notZip, Progress.NONE), "not a zip archive");
        Path cut = tmp.resolve("cut.pt");
        Files.write(cut, Arrays.copyOf(Files.readAllBytes(resource("small.pt")), 700));
        assertBadInput(cut, () -> reader.read(cut, Progress.NONE));
        int rejected = ReaderAssertions.fuzz(resource("small.pt"), tmp, reader, 200, 300, 31);
        assertTrue(rejected > 250, "corruptions detected: " + rejected);
        ReaderAssertions.fuzz(resource("proto4.pt"), tmp, reader, 50, 100, 37);
    }
}
