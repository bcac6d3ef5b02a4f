package dev.tamp.formats.onnx;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.TestModels;
import dev.tamp.formats.onnx.proto.OnnxProto.AttributeProto;
import dev.tamp.formats.onnx.proto.OnnxProto.GraphProto;
import dev.tamp.formats.onnx.proto.OnnxProto.ModelProto;
import dev.tamp.formats.onnx.proto.OnnxProto.NodeProto;
import dev.tamp.formats.onnx.proto.OnnxProto.SparseTensorProto;
import dev.tamp.formats.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.tamp.formats.onnx.proto.OnnxProto.TensorProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Malformed input ends in a one-line BadInputException naming the file; unsupported content in UnsupportedModelException. */
class OnnxBadInputTest {
    @TempDir Path tmp;

    static Model read(Path p) {
        return OnnxReaderTest.read(p);
    }

    private static void assertBad(Path p, String expectedFragment) {
        BadInputException e = assertThrows(BadInputException.class, () -> read(p), p.getFileName().toString());
        assertTrue(e.getMessage().contains(p.getFileName().toString()), "names the file: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        if (expectedFragment != null) assertTrue(e.getMessage().contains(expectedFragment), e.getMessage());
    }

    private static void assertUnsupported(Path p, String expectedFragment) {
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> read(p), p.getFileName().toString());
        assertTrue(e.getMessage().contains(p.getFileName().toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(expectedFragment), e.getMessage());
    }

    /** A small valid model: one Add of an input and a raw-data initializer, plus typed-field initializers. */
    static ModelProto tiny() {
        Tensor w = Tensor.ofFloats(new float[] {1, 2, 3, 4}, 4);
        GraphProto.Builder g = GraphProto.newBuilder().setName("tiny")
                .addNode(NodeProto.newBuilder().setOpType("Add").addInput("x").addInput("w").addOutput("y")
                        .addAttribute(AttributeProto.newBuilder().setName("note").setType(AttributeProto.AttributeType.STRING)
                                .setS(com.google.protobuf.ByteString.copyFromUtf8("hi"))))
                .addInitializer(OnnxTensors.toProto("w", w))
                .addInitializer(TensorProto.newBuilder().setName("zp").setDataType(DType.I8.onnxCode()).addDims(2)
                        .addInt32Data(-3).addInt32Data(7))
                .addInitializer(TensorProto.newBuilder().setName("scale").setDataType(DType.F16.onnxCode()).addDims(1)
                        .addInt32Data(0x3c00));
        return ModelProto.newBuilder().setIrVersion(8).setGraph(g)
                .addOpsetImport(dev.tamp.formats.onnx.proto.OnnxProto.OperatorSetIdProto.newBuilder().setVersion(17)).build();
    }

    private Path write(String name, ModelProto mp) throws IOException {
        return Files.write(tmp.resolve(name), mp.toByteArray());
    }

    private Path withInit(String name, int index, UnaryOperator<TensorProto.Builder> edit) throws IOException {
        ModelProto.Builder b = tiny().toBuilder();
        b.getGraphBuilder().setInitializer(index, edit.apply(b.getGraph().getInitializer(index).toBuilder()).build());
        return write(name, b.build());
    }

    @Test
    void tinyModelIsValid() throws IOException {
        Model m = read(write("tiny.onnx", tiny()));
        assertEquals(3, m.weights().size());
        Tensor zp = OnnxReaderTest.dense(m, "zp");
        assertEquals(DType.I8, zp.dtype());
        assertEquals(-3, zp.getLong(0));
        assertEquals(7, zp.getLong(1));
        assertEquals(1.0f, OnnxReaderTest.dense(m, "scale").getFloat(0));
        assertEquals("unknown", m.architecture());
    }

    @Test
    void truncatedEmptyAndGarbageFiles() throws IOException {
        byte[] full = Files.readAllBytes(TestModels.miniLm());
        assertBad(Files.write(tmp.resolve("truncated.onnx"), Arrays.copyOf(full, 1 << 20)), "truncated");
        assertBad(Files.write(tmp.resolve("empty.onnx"), new byte[0]), "empty");
        byte[] g = new byte[4096];
        new SplittableRandom(7).nextBytes(g);
        assertBad(Files.write(tmp.resolve("garbage.onnx"), g), null);
        assertBad(Files.writeString(tmp.resolve("text.onnx"), "this is not a model\n"), null);
        assertBad(tmp.resolve("missing.onnx"), null);
    }

    @Test
    void malformedTensors() throws IOException {
        assertBad(withInit("negdim.onnx", 0, t -> t.setDims(0, -4)), "negative dimension");
        assertBad(withInit("rawsize.onnx", 0, t -> t.setDims(0, 5)), "needs 20");
        assertBad(withInit("overflow.onnx", 0, t -> t.setDims(0, Long.MAX_VALUE / 2).addDims(8)), "impossible size");
        assertBad(withInit("typedcount.onnx", 1, t -> t.addInt32Data(1)), "int32_data");
        assertBad(withInit("range.onnx", 1, t -> t.setInt32Data(1, 300)), "outside [-128, 127]");
        assertBad(withInit("f16range.onnx", 2, t -> t.setInt32Data(0, 0x10000)), "outside");
        assertBad(withInit("nodtype.onnx", 0, t -> t.clearDataType()), "no data type");
        // A few bytes declaring a 4 GiB float tensor with its values missing: refused before any allocation.
        assertBad(withInit("huge.onnx", 0, t -> t.clearRawData().setDims(0, 1L << 30)), "float_data");
        ModelProto.Builder dup = tiny().toBuilder();
        dup.getGraphBuilder().addInitializer(dup.getGraph().getInitializer(0));
        assertBad(write("dup.onnx", dup.build()), "twice");
        ModelProto.Builder noGraph = tiny().toBuilder().clearGraph();
        assertBad(write("nograph.onnx", noGraph.build()), "no graph");
    }

    @Test
    void unsupportedContentNamesTheTensor() throws IOException {
        assertUnsupported(withInit("string.onnx", 0, t -> t.clearRawData().setDataType(TensorProto.DataType.STRING_VALUE)
                .addStringData(com.google.protobuf.ByteString.copyFromUtf8("a"))), "'w' has data type STRING");
        assertUnsupported(withInit("fp8.onnx", 0, t -> t.setDataType(TensorProto.DataType.FLOAT8E4M3FN_VALUE)), "FLOAT8E4M3FN");
        assertUnsupported(withInit("int4.onnx", 0, t -> t.setDataType(TensorProto.DataType.INT4_VALUE)), "INT4");
        assertUnsupported(withInit("complex.onnx", 0, t -> t.setDataType(TensorProto.DataType.COMPLEX64_VALUE)), "COMPLEX64");
        assertUnsupported(withInit("segment.onnx", 0, t -> t.setSegment(TensorProto.Segment.newBuilder().setBegin(0).setEnd(2))), "segment");
        ModelProto.Builder sparse = tiny().toBuilder();
        sparse.getGraphBuilder().addSparseInitializer(SparseTensorProto.newBuilder().addDims(4));
        assertUnsupported(write("sparse.onnx", sparse.build()), "sparse");
    }

    /** Nested subgraphs beyond protobuf's recursion limit fail cleanly, without a stack overflow. */
    @Test
    void deepNestingIsRefused() throws IOException {
        GraphProto g = GraphProto.newBuilder().setName("leaf").build();
        for (int i = 0; i < 60; i++) {
            g = GraphProto.newBuilder().setName("level" + i).addNode(NodeProto.newBuilder().setOpType("Loop")
                    .addAttribute(AttributeProto.newBuilder().setName("body").setType(AttributeProto.AttributeType.GRAPH).setG(g))).build();
        }
        ModelProto mp = tiny().toBuilder().setGraph(tiny().getGraph().toBuilder().addNode(g.getNode(0))).build();
        assertBad(write("deep.onnx", mp), "nesting");
    }

    @Test
    void externalDataOutsideTheDirectoryIsRefused() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("model"));
        Files.write(tmp.resolve("secret.bin"), new byte[64]);
        Files.write(dir.resolve("w.bin"), new byte[64]);
        Files.createSymbolicLink(dir.resolve("link.bin"), tmp.resolve("secret.bin"));
        UnaryOperator<TensorProto.Builder> ok = t -> external(t, "w.bin", 16, 16);
        assertEquals(16, OnnxReaderTest.dense(read(modelIn(dir, "ok.onnx", ok)), "w").byteSize(), "a valid external tensor");

        assertBad(modelIn(dir, "escape.onnx", t -> external(t, "../secret.bin", 0, 16)), "outside the model's directory");
        assertBad(modelIn(dir, "absolute.onnx", t -> external(t, tmp.resolve("secret.bin").toString(), 0, 16)), "absolute");
        // A link placed in the directory is the user's arrangement (the Hugging Face cache links to blobs): followed.
        assertEquals(16, OnnxReaderTest.dense(read(modelIn(dir, "symlink.onnx", t -> external(t, "link.bin", 0, 16))), "w").byteSize());
        assertBad(modelIn(dir, "dotdot-inside.onnx", t -> external(t, "sub/../../secret.bin", 0, 16)), "outside the model's directory");
        assertBad(modelIn(dir, "dir-itself.onnx", t -> external(t, ".", 0, 16)), "outside the model's directory");
        assertBad(modelIn(dir, "missing.onnx", t -> external(t, "nothere.bin", 0, 16)), "missing");
        assertBad(modelIn(dir, "past-end.onnx", t -> external(t, "w.bin", 60, 16)), "outside the file");
        assertBad(modelIn(dir, "negative.onnx", t -> external(t, "w.bin", -8, 16)), "outside the file");
        assertBad(modelIn(dir, "length.onnx", t -> external(t, "w.bin", 0, 12)), "declares 12");
        assertBad(modelIn(dir, "nolocation.onnx", t -> t.clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL)), "no location");
        assertBad(modelIn(dir, "badoffset.onnx", t -> t.clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(kv("location", "w.bin")).addExternalData(kv("offset", "12abc"))), "malformed");
    }

    /** The task's case on the real model: MiniLM written with external data, its location pointed outside. */
    @Test
    void realModelWithEscapingExternalData() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("sub")).resolve("esc.onnx");
        OnnxWriter.write(read(TestModels.miniLm()), out, 1 << 16);
        Files.copy(tmp.resolve("sub").resolve("esc.onnx.data"), tmp.resolve("esc.onnx.data"));
        ModelProto.Builder b = ModelProto.parseFrom(Files.readAllBytes(out)).toBuilder();
        GraphProto.Builder g = b.getGraphBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            TensorProto.Builder t = g.getInitializerBuilder(i);
            for (int k = 0; k < t.getExternalDataCount(); k++) {
                if (t.getExternalData(k).getKey().equals("location")) t.setExternalData(k, kv("location", "../esc.onnx.data"));
            }
        }
        Files.write(out, b.build().toByteArray());
        assertBad(out, "outside the model's directory");
    }

    private static StringStringEntryProto kv(String k, String v) {
        return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
    }

    private static TensorProto.Builder external(TensorProto.Builder t, String location, long offset, long length) {
        return t.clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL).addExternalData(kv("location", location))
                .addExternalData(kv("offset", Long.toString(offset))).addExternalData(kv("length", Long.toString(length)));
    }

    private static Path modelIn(Path dir, String name, UnaryOperator<TensorProto.Builder> edit) throws IOException {
        ModelProto.Builder b = tiny().toBuilder();
        b.getGraphBuilder().setInitializer(0, edit.apply(b.getGraph().getInitializer(0).toBuilder()).build());
        return Files.write(dir.resolve(name), b.build().toByteArray());
    }

    /**
     * Every prefix and many random byte corruptions of a valid model either read or fail with one of tamp's
     * two input exceptions — never an IndexOutOfBounds, BufferUnderflow, NegativeArraySize or other escape.
     */
    @Test
    void corruptedVariantsFailOnlyWithTampExceptions() throws IOException {
        byte[] good = tiny().toByteArray();
        Path p = tmp.resolve("fuzz.onnx");
        SplittableRandom rnd = new SplittableRandom(20261122);
        int ok = 0, bad = 0, unsupported = 0;
        for (int trial = 0; trial < good.length + 3000; trial++) {
            byte[] b;
            if (trial < good.length) {
                b = Arrays.copyOf(good, trial);
            } else {
                b = good.clone();
                int flips = 1 + rnd.nextInt(4);
                for (int f = 0; f < flips; f++) b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            }
            Files.write(p, b);
            try {
                read(p);
                ok++;
            } catch (BadInputException e) {
                assertTrue(e.getMessage().contains("fuzz.onnx") && !e.getMessage().contains("\n"), e.getMessage());
                bad++;
            } catch (UnsupportedModelException e) {
                unsupported++;
            }
        }
        System.err.printf("fuzz: %d read, %d bad input, %d unsupported%n", ok, bad, unsupported);
        assertTrue(bad > good.length / 2, "most corruptions are detected: " + bad);
    }
}
