package dev.tamp.formats.fuzz;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.tamp.formats.fuzz.Mutations.Mutant;
import dev.tamp.formats.fuzz.Mutations.Mutator;
import dev.tamp.formats.onnx.proto.OnnxProto.AttributeProto;
import dev.tamp.formats.onnx.proto.OnnxProto.AttributeProto.AttributeType;
import dev.tamp.formats.onnx.proto.OnnxProto.GraphProto;
import dev.tamp.formats.onnx.proto.OnnxProto.ModelProto;
import dev.tamp.formats.onnx.proto.OnnxProto.NodeProto;
import dev.tamp.formats.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.tamp.formats.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.tamp.formats.onnx.proto.OnnxProto.TensorProto;
import dev.tamp.formats.onnx.proto.OnnxProto.TensorProto.DataType;
import dev.tamp.formats.onnx.proto.OnnxProto.TensorShapeProto;
import dev.tamp.formats.onnx.proto.OnnxProto.TypeProto;
import dev.tamp.formats.onnx.proto.OnnxProto.ValueInfoProto;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;

/**
 * ONNX seeds built with the generated protobuf classes: initializers in raw_data and in every typed field, a
 * Loop-like node whose GRAPH attribute holds a subgraph with its own initializer, tensor and list attributes,
 * and a second seed whose weights live in an external data file. Mutations work on the parsed message (lying
 * dims and data types, duplicated initializers, deep graph nesting, external offsets and paths) and on the
 * wire bytes (a length prefix replaced by a huge varint).
 */
final class OnnxSeeds {
    private OnnxSeeds() {}

    static TensorProto raw(String name, float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return TensorProto.newBuilder().setName(name).setDataType(DataType.FLOAT_VALUE).addDims(2).addDims(v.length / 2)
                .setRawData(ByteString.copyFrom(b.array())).build();
    }

    static ValueInfoProto value(String name, Object... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            if (d instanceof Long l) s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(l));
            else s.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(d.toString()));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(DataType.FLOAT_VALUE).setShape(s))).build();
    }

    static ModelProto inline() {
        GraphProto body = GraphProto.newBuilder().setName("body")
                .addInitializer(raw("body.w", 1, 2))
                .addNode(NodeProto.newBuilder().setOpType("Mul").addInput("v").addInput("body.w").addOutput("v2")
                        .addAttribute(AttributeProto.newBuilder().setName("t").setType(AttributeType.TENSOR).setT(raw("", 3, 4)))).build();
        GraphProto.Builder g = GraphProto.newBuilder().setName("seed")
                .addNode(NodeProto.newBuilder().setOpType("MatMul").setName("mm").addInput("x").addInput("w").addOutput("h")
                        .addAttribute(AttributeProto.newBuilder().setName("ints").setType(AttributeType.INTS).addInts(1).addInts(-1))
                        .addAttribute(AttributeProto.newBuilder().setName("floats").addFloats(0.5f)) // type left unset (old exporters)
                        .addAttribute(AttributeProto.newBuilder().setName("strs").setType(AttributeType.STRINGS)
                                .addStrings(ByteString.copyFromUtf8("a"))))
                .addNode(NodeProto.newBuilder().setOpType("Loop").setName("loop").addInput("h").addOutput("y")
                        .addAttribute(AttributeProto.newBuilder().setName("body").setType(AttributeType.GRAPH).setG(body))
                        .addAttribute(AttributeProto.newBuilder().setName("alpha").setType(AttributeType.FLOAT).setF(0.25f)))
                .addInitializer(raw("w", 1, 2, 3, 4, 5, 6))
                .addInitializer(TensorProto.newBuilder().setName("zp").setDataType(DataType.INT8_VALUE).addDims(2).addInt32Data(-3).addInt32Data(7))
                .addInitializer(TensorProto.newBuilder().setName("scale").setDataType(DataType.FLOAT16_VALUE).addDims(1).addInt32Data(0x3c00))
                .addInitializer(TensorProto.newBuilder().setName("u32").setDataType(DataType.UINT32_VALUE).addDims(2).addUint64Data(1).addUint64Data(0xFFFFFFFFL))
                .addInitializer(TensorProto.newBuilder().setName("f").setDataType(DataType.FLOAT_VALUE).addDims(3).addFloatData(1).addFloatData(2).addFloatData(3))
                .addInitializer(TensorProto.newBuilder().setName("d").setDataType(DataType.DOUBLE_VALUE).addDoubleData(2.5))
                .addInitializer(TensorProto.newBuilder().setName("shape").setDataType(DataType.INT64_VALUE).addDims(2).addInt64Data(1).addInt64Data(-1))
                .addInput(value("x", "batch", 2L)).addInput(value("w", 2L, 3L)).addOutput(value("y", "batch", 3L));
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("fuzz").setGraph(g)
                .addMetadataProps(StringStringEntryProto.newBuilder().setKey("k").setValue("v"))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17)).build();
    }

    static final String DATA_FILE = "weights.bin";

    static ModelProto external() {
        GraphProto.Builder g = GraphProto.newBuilder().setName("ext")
                .addNode(NodeProto.newBuilder().setOpType("Add").addInput("x").addInput("e1").addInput("e2").addOutput("y"));
        for (int i = 0; i < 2; i++) {
            g.addInitializer(TensorProto.newBuilder().setName("e" + (i + 1)).setDataType(DataType.FLOAT_VALUE).addDims(2).addDims(2)
                    .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(DATA_FILE))
                    .addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue(Long.toString(64L * i)))
                    .addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue("16")));
        }
        return ModelProto.newBuilder().setIrVersion(8).setGraph(g).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17)).build();
    }

    private static final long[] DIMS = {-1, -2, 0, 1, 3, 0x7FFFFFFFL, 0x80000000L, 1L << 40, Long.MAX_VALUE, Long.MIN_VALUE};
    private static final String[] EXTERNAL_VALUES = {"-1", "0", "16", "63", "64", "9223372036854775807", "-9223372036854775808",
            "18446744073709551616", "1e3", "", "x", "weights.bin", "../weights.bin", "/etc/passwd", ".", "sub/../weights.bin",
            "missing.bin", "weights.bin\u0000x"};

    /** A mutation of the parsed model. */
    private static Mutator proto(String what, BiFunction<ModelProto.Builder, SplittableRandom, String> edit) {
        return (s, r) -> {
            ModelProto.Builder b;
            try {
                b = ModelProto.parseFrom(s).toBuilder();
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
            String detail = edit.apply(b, r);
            return new Mutant(b.build().toByteArray(), what + " " + detail);
        };
    }

    static List<Mutator> mutators() {
        List<Mutator> m = new ArrayList<>();
        m.add(proto("dim", (b, r) -> {
            TensorProto.Builder t = b.getGraphBuilder().getInitializerBuilder(r.nextInt(b.getGraph().getInitializerCount()));
            long v = DIMS[r.nextInt(DIMS.length)];
            if (t.getDimsCount() > 0 && r.nextBoolean()) t.setDims(r.nextInt(t.getDimsCount()), v);
            else t.addDims(v);
            return t.getName() + " dims " + t.getDimsList();
        }));
        m.add(proto("data_type", (b, r) -> {
            TensorProto.Builder t = b.getGraphBuilder().getInitializerBuilder(r.nextInt(b.getGraph().getInitializerCount()));
            int code = new int[] {-1, 0, r.nextInt(1, 26), 1000, Integer.MAX_VALUE, Integer.MIN_VALUE}[r.nextInt(6)];
            t.setDataType(code);
            return t.getName() + " = " + code;
        }));
        m.add(proto("data", (b, r) -> {
            TensorProto.Builder t = b.getGraphBuilder().getInitializerBuilder(r.nextInt(b.getGraph().getInitializerCount()));
            switch (r.nextInt(5)) {
                case 0 -> t.setRawData(ByteString.copyFrom(new byte[r.nextInt(64)]));
                case 1 -> t.addInt32Data(new int[] {-1, 256, 65536, Integer.MIN_VALUE, Integer.MAX_VALUE}[r.nextInt(5)]);
                case 2 -> t.addUint64Data(new long[] {-1, 1L << 32, 0}[r.nextInt(3)]);
                case 3 -> t.clearRawData().clearFloatData().clearInt32Data();
                default -> t.addFloatData(Float.NaN);
            }
            return t.getName() + " raw " + t.getRawData().size() + " int32 " + t.getInt32DataCount() + " uint64 " + t.getUint64DataCount();
        }));
        m.add(proto("duplicate initializer", (b, r) -> {
            TensorProto t = b.getGraph().getInitializer(r.nextInt(b.getGraph().getInitializerCount()));
            b.getGraphBuilder().addInitializer(t);
            return t.getName();
        }));
        m.add(proto("nested graphs", (b, r) -> {
            // Graph attributes nested d deep, the innermost holding a tensor attribute with a lying shape.
            int depth = r.nextInt(1, 130);
            TensorProto bad = raw("inner", 1, 2).toBuilder().setDims(0, DIMS[r.nextInt(DIMS.length)]).build();
            GraphProto g = GraphProto.newBuilder().setName("leaf").addNode(NodeProto.newBuilder().setOpType("Constant").addOutput("c")
                    .addAttribute(AttributeProto.newBuilder().setName("value").setType(AttributeType.TENSOR).setT(bad))).build();
            for (int i = 0; i < depth; i++) {
                g = GraphProto.newBuilder().setName("level" + i).addNode(NodeProto.newBuilder().setOpType("If")
                        .addAttribute(AttributeProto.newBuilder().setName("then_branch").setType(AttributeType.GRAPH).setG(g))).build();
            }
            b.getGraphBuilder().addNode(g.getNode(0));
            return "depth " + depth + " inner dims " + bad.getDimsList();
        }));
        m.add(proto("attribute", (b, r) -> {
            NodeProto.Builder n = b.getGraphBuilder().getNodeBuilder(0);
            switch (r.nextInt(4)) {
                case 0 -> n.addAttribute(n.getAttributeCount() > 0 ? n.getAttribute(0) // the same name twice
                        : AttributeProto.newBuilder().setName("i").setType(AttributeType.INT).setI(1).build());
                case 1 -> n.addAttribute(AttributeProto.newBuilder().setName("typeless"));
                case 2 -> n.addAttribute(AttributeProto.newBuilder().setName("graphs").setType(AttributeType.GRAPHS));
                default -> n.addAttribute(AttributeProto.newBuilder().setName("liar").setType(AttributeType.values()[r.nextInt(AttributeType.values().length)]));
            }
            return n.getAttribute(n.getAttributeCount() - 1).getName();
        }));
        m.add(proto("external", (b, r) -> {
            TensorProto.Builder t = b.getGraphBuilder().getInitializerBuilder(r.nextInt(b.getGraph().getInitializerCount()));
            t.setDataLocation(TensorProto.DataLocation.EXTERNAL);
            String key = new String[] {"location", "offset", "length"}[r.nextInt(3)];
            String v = EXTERNAL_VALUES[r.nextInt(EXTERNAL_VALUES.length)];
            boolean replaced = false;
            for (int i = 0; i < t.getExternalDataCount(); i++) {
                if (t.getExternalData(i).getKey().equals(key)) {
                    t.setExternalData(i, StringStringEntryProto.newBuilder().setKey(key).setValue(v));
                    replaced = true;
                }
            }
            if (!replaced) t.addExternalData(StringStringEntryProto.newBuilder().setKey(key).setValue(v));
            return t.getName() + " " + key + "=" + v;
        }));
        m.add((s, r) -> {
            // a varint (length prefix, tag payload, dim) replaced by a 10-byte varint of a huge or negative value
            int at = r.nextInt(s.length);
            int end = at;
            while (end < s.length && (s[end] & 0x80) != 0) end++;
            long v = Mutations.boundary(r, s.length);
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            o.write(s, 0, at);
            for (int i = 0; i < 9; i++) { o.write((int) ((v & 0x7F) | 0x80)); v >>>= 7; }
            o.write((int) (v & 0x01));
            if (end + 1 <= s.length) o.write(s, end + 1, s.length - end - 1);
            return new Mutant(o.toByteArray(), "varint at " + at + " replaced by a 10-byte varint");
        });
        return m;
    }

    static List<FuzzSeed> seeds() {
        List<FuzzSeed> out = new ArrayList<>();
        out.add(FuzzSeed.single("onnx-inline", "seed.onnx", inline().toByteArray(), mutators()));
        byte[] data = new byte[128];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 13);
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("seed.onnx", external().toByteArray());
        files.put(DATA_FILE, data);
        Map<String, List<Mutator>> m = new LinkedHashMap<>();
        m.put("seed.onnx", mutators());
        m.put(DATA_FILE, List.of((s, r) -> Mutations.truncate(s, r.nextInt(s.length))));
        out.add(new FuzzSeed("onnx-external-data", files, "seed.onnx", m));
        return out;
    }
}
