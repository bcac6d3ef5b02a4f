package dev.tamp.formats.onnx;

import com.google.protobuf.ByteString;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Attribute;
import dev.tamp.core.ir.Graph;
import dev.tamp.core.ir.Node;
import dev.tamp.core.ir.ValueInfo;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.onnx.proto.OnnxProto.AttributeProto;
import dev.tamp.formats.onnx.proto.OnnxProto.GraphProto;
import dev.tamp.formats.onnx.proto.OnnxProto.NodeProto;
import dev.tamp.formats.onnx.proto.OnnxProto.TensorProto;
import dev.tamp.formats.onnx.proto.OnnxProto.TensorShapeProto;
import dev.tamp.formats.onnx.proto.OnnxProto.TypeProto;
import dev.tamp.formats.onnx.proto.OnnxProto.ValueInfoProto;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** GraphProto ↔ {@link Graph} (nodes, attributes, inputs and outputs; initializers are handled by the callers). */
final class OnnxGraphs {
    private OnnxGraphs() {}

    /**
     * Converts a graph; graph inputs that are initializers are dropped (they are weights). Initializers of
     * nested subgraphs become Constant nodes at the start of the subgraph, since IR subgraphs carry no weights.
     * {@code baseDir} is where external data may be read from, or null to refuse it.
     */
    static Graph fromProto(GraphProto gp, Path file, Path baseDir, boolean nested) {
        if (gp.getSparseInitializerCount() > 0) {
            throw new UnsupportedModelException(file + ": graph " + OnnxTensors.oneLine(gp.getName())
                    + " has sparse initializers, which tamp does not support");
        }
        Set<String> initNames = new HashSet<>();
        for (TensorProto t : gp.getInitializerList()) initNames.add(t.getName());
        List<Node> nodes = new ArrayList<>();
        if (nested) {
            for (TensorProto t : gp.getInitializerList()) {
                Tensor v = OnnxTensors.toTensor(t, file, baseDir);
                nodes.add(new Node(t.getName() + "/const", "Constant", "", List.of(), List.of(t.getName()),
                        Map.of("value", new Attribute.TensorValue(v))));
            }
        }
        for (NodeProto np : gp.getNodeList()) nodes.add(node(np, file, baseDir));
        List<ValueInfo> inputs = new ArrayList<>();
        for (ValueInfoProto v : gp.getInputList()) if (!initNames.contains(v.getName())) inputs.add(valueInfo(v));
        List<ValueInfo> outputs = new ArrayList<>();
        for (ValueInfoProto v : gp.getOutputList()) outputs.add(valueInfo(v));
        return new Graph(gp.getName(), nodes, inputs, outputs);
    }

    private static Node node(NodeProto np, Path file, Path baseDir) {
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        for (AttributeProto a : np.getAttributeList()) {
            if (attrs.put(a.getName(), attribute(a, np, file, baseDir)) != null) {
                throw BadInputException.inFile(file, "node " + OnnxTensors.oneLine(label(np)) + " has attribute "
                        + OnnxTensors.oneLine(a.getName()) + " twice");
            }
        }
        return new Node(np.getName(), np.getOpType(), np.getDomain(), np.getInputList(), np.getOutputList(), attrs);
    }

    private static Attribute attribute(AttributeProto a, NodeProto np, Path file, Path baseDir) {
        AttributeProto.AttributeType type = a.hasType() ? a.getType() : inferType(a);
        return switch (type) {
            case FLOAT -> new Attribute.Float(a.getF());
            case INT -> new Attribute.Int(a.getI());
            case STRING -> new Attribute.Str(a.getS().toString(StandardCharsets.UTF_8));
            case TENSOR -> new Attribute.TensorValue(OnnxTensors.toTensor(a.getT(), file, baseDir));
            case GRAPH -> new Attribute.GraphValue(fromProto(a.getG(), file, baseDir, true));
            case FLOATS -> {
                float[] f = new float[a.getFloatsCount()];
                for (int i = 0; i < f.length; i++) f[i] = a.getFloats(i);
                yield new Attribute.Floats(f);
            }
            case INTS -> new Attribute.Ints(a.getIntsList().stream().mapToLong(Long::longValue).toArray());
            case STRINGS -> new Attribute.Strs(a.getStringsList().stream().map(s -> s.toString(StandardCharsets.UTF_8)).toList());
            case UNDEFINED -> throw BadInputException.inFile(file, "node " + OnnxTensors.oneLine(label(np)) + " has attribute "
                    + OnnxTensors.oneLine(a.getName()) + " with no type and no value");
            default -> throw new UnsupportedModelException(file + ": node " + OnnxTensors.oneLine(label(np)) + " ("
                    + OnnxTensors.oneLine(np.getOpType()) + ") has attribute " + OnnxTensors.oneLine(a.getName()) + " of type "
                    + type + ", which tamp does not support");
        };
    }

    /** Files from old exporters leave the type unset; the populated field tells. */
    private static AttributeProto.AttributeType inferType(AttributeProto a) {
        if (a.hasG()) return AttributeProto.AttributeType.GRAPH;
        if (a.hasT()) return AttributeProto.AttributeType.TENSOR;
        if (a.hasS()) return AttributeProto.AttributeType.STRING;
        if (a.hasF()) return AttributeProto.AttributeType.FLOAT;
        if (a.hasI()) return AttributeProto.AttributeType.INT;
        if (a.getFloatsCount() > 0) return AttributeProto.AttributeType.FLOATS;
        if (a.getIntsCount() > 0) return AttributeProto.AttributeType.INTS;
        if (a.getStringsCount() > 0) return AttributeProto.AttributeType.STRINGS;
        if (a.getTensorsCount() > 0) return AttributeProto.AttributeType.TENSORS;
        if (a.getGraphsCount() > 0) return AttributeProto.AttributeType.GRAPHS;
        if (a.hasSparseTensor() || a.getSparseTensorsCount() > 0) return AttributeProto.AttributeType.SPARSE_TENSOR;
        if (a.hasTp() || a.getTypeProtosCount() > 0) return AttributeProto.AttributeType.TYPE_PROTO;
        return AttributeProto.AttributeType.UNDEFINED;
    }

    private static String label(NodeProto np) {
        return np.getName().isEmpty() ? (np.getOutputCount() > 0 ? np.getOutput(0) : np.getOpType()) : np.getName();
    }

    static ValueInfo valueInfo(ValueInfoProto v) {
        if (!v.getType().hasTensorType()) return new ValueInfo(v.getName(), null, null);
        TypeProto.Tensor tt = v.getType().getTensorType();
        List<ValueInfo.Dim> dims = null;
        if (tt.hasShape()) {
            dims = new ArrayList<>();
            for (TensorShapeProto.Dimension d : tt.getShape().getDimList()) {
                if (d.hasDimValue()) dims.add(ValueInfo.Dim.fixed(d.getDimValue()));
                else dims.add(ValueInfo.Dim.symbolic(d.hasDimParam() ? d.getDimParam() : null));
            }
        }
        return new ValueInfo(v.getName(), DType.fromOnnx(tt.getElemType()), dims);
    }

    /** The graph as a GraphProto, with the given initializers. */
    static GraphProto toProto(Graph g, List<TensorProto> initializers) {
        GraphProto.Builder b = GraphProto.newBuilder().setName(g.name() == null ? "" : g.name());
        for (Node n : g.nodes()) b.addNode(toProto(n));
        for (ValueInfo v : g.inputs()) b.addInput(toProto(v));
        for (ValueInfo v : g.outputs()) b.addOutput(toProto(v));
        b.addAllInitializer(initializers);
        return b.build();
    }

    private static NodeProto toProto(Node n) {
        NodeProto.Builder b = NodeProto.newBuilder().setOpType(n.opType()).addAllInput(n.inputs()).addAllOutput(n.outputs());
        if (n.name() != null && !n.name().isEmpty()) b.setName(n.name());
        if (n.domain() != null && !n.domain().isEmpty()) b.setDomain(n.domain());
        for (Map.Entry<String, Attribute> e : n.attributes().entrySet()) b.addAttribute(toProto(e.getKey(), e.getValue()));
        return b.build();
    }

    private static AttributeProto toProto(String name, Attribute a) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name);
        if (a instanceof Attribute.Float f) {
            b.setType(AttributeProto.AttributeType.FLOAT).setF(f.value());
        } else if (a instanceof Attribute.Int i) {
            b.setType(AttributeProto.AttributeType.INT).setI(i.value());
        } else if (a instanceof Attribute.Str s) {
            b.setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(s.value()));
        } else if (a instanceof Attribute.TensorValue t) {
            b.setType(AttributeProto.AttributeType.TENSOR).setT(OnnxTensors.toProto("", t.value()));
        } else if (a instanceof Attribute.GraphValue g) {
            b.setType(AttributeProto.AttributeType.GRAPH).setG(toProto(g.value(), List.of()));
        } else if (a instanceof Attribute.Floats fs) {
            b.setType(AttributeProto.AttributeType.FLOATS);
            for (float f : fs.values()) b.addFloats(f);
        } else if (a instanceof Attribute.Ints is) {
            b.setType(AttributeProto.AttributeType.INTS);
            for (long i : is.values()) b.addInts(i);
        } else if (a instanceof Attribute.Strs ss) {
            b.setType(AttributeProto.AttributeType.STRINGS);
            for (String s : ss.values()) b.addStrings(ByteString.copyFromUtf8(s));
        }
        return b.build();
    }

    private static ValueInfoProto toProto(ValueInfo v) {
        ValueInfoProto.Builder b = ValueInfoProto.newBuilder().setName(v.name());
        if (v.dtype() != null) {
            TypeProto.Tensor.Builder tt = TypeProto.Tensor.newBuilder().setElemType(v.dtype().onnxCode());
            if (v.dims() != null) {
                TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
                for (ValueInfo.Dim d : v.dims()) {
                    TensorShapeProto.Dimension.Builder db = TensorShapeProto.Dimension.newBuilder();
                    if (d.isFixed()) db.setDimValue(d.value());
                    else if (d.param() != null) db.setDimParam(d.param());
                    s.addDim(db);
                }
                tt.setShape(s);
            }
            b.setType(TypeProto.newBuilder().setTensorType(tt));
        }
        return b.build();
    }
}
