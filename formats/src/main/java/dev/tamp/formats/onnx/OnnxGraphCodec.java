package dev.tamp.formats.onnx;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.tamp.core.ir.Graph;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.formats.onnx.proto.OnnxProto.ModelProto;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A graph alone as bytes, for the .tpk container: a serialised ONNX ModelProto holding the graph (nodes,
 * inputs, outputs; no initializers — the weights live in the pack's tensor table) and its opset imports.
 * Being a valid ONNX model, the blob can be inspected with any ONNX tool.
 */
public final class OnnxGraphCodec {
    private OnnxGraphCodec() {}

    public static byte[] toBytes(Graph graph, Map<String, Long> opsets) {
        Model m = new Model(ModelFormat.ONNX, "", "", graph, Map.of(), Map.of(), opsets, null, List.of());
        return OnnxWriter.modelProto(m, List.of()).toByteArray();
    }

    public static Graph fromBytes(byte[] bytes) {
        try {
            ModelProto mp = ModelProto.parseFrom(bytes);
            return OnnxGraphs.fromProto(mp.getGraph(), Path.of("graph.onnx"), Path.of("."), false);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("invalid graph bytes: " + e.getMessage(), e);
        }
    }
}
