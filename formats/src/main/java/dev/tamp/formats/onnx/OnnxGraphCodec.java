package dev.tamp.formats.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.TampException;
import dev.tamp.core.ir.Graph;
import dev.tamp.formats.onnx.proto.OnnxProto.ModelProto;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A graph alone as bytes, for the .tpk container's graph blob.
 *
 * <p>The blob is a serialised ONNX {@code ModelProto} with exactly three fields: {@code ir_version} (the
 * lowest the default-domain opset needs), {@code opset_import} (the model's opsets, in their order; opset 17
 * of the default domain when there are none) and {@code graph} (name, nodes with their attributes, inputs,
 * outputs; no initializers — the weights live in the pack's tensor table — and no value_info). No producer,
 * metadata or doc strings, so equal graphs give equal bytes. Being a valid ONNX model, the blob can be
 * inspected with any ONNX tool. Tensor attributes are stored inline; external data is refused on decode.
 */
public final class OnnxGraphCodec {
    /** A decoded blob: the graph and the opset imports (domain "" for the default domain). */
    public record Decoded(Graph graph, Map<String, Long> opsets) {}

    private static final Path BLOB = Path.of("graph.onnx");

    private OnnxGraphCodec() {}

    public static byte[] toBytes(Graph graph, Map<String, Long> opsets) {
        return OnnxWriter.modelProto(graph, opsets, List.of()).toByteArray();
    }

    /** The graph of a blob written by {@link #toBytes}. */
    public static Graph fromBytes(byte[] bytes) {
        return decode(bytes).graph();
    }

    /** The opset imports of a blob written by {@link #toBytes}. */
    public static Map<String, Long> opsetsFromBytes(byte[] bytes) {
        return decode(bytes).opsets();
    }

    /**
     * Decodes a blob.
     *
     * @throws BadInputException when the bytes are not such a blob (corrupt protobuf, no graph, initializers
     *     present, malformed tensors or attributes)
     * @throws dev.tamp.core.error.UnsupportedModelException for attribute or tensor kinds tamp lacks
     */
    public static Decoded decode(byte[] bytes) {
        ModelProto mp;
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            mp = ModelProto.parseFrom(in);
            in.checkLastTagWas(0);
        } catch (InvalidProtocolBufferException e) {
            throw BadInputException.inFile(BLOB, "corrupt ONNX graph bytes: " + OnnxTensors.oneLine(String.valueOf(e.getMessage())), e);
        } catch (IOException e) {
            throw BadInputException.inFile(BLOB, "unreadable ONNX graph bytes: " + OnnxTensors.oneLine(e.toString()), e);
        }
        if (!mp.hasGraph()) throw BadInputException.inFile(BLOB, "ONNX graph bytes hold no graph");
        if (mp.getGraph().getInitializerCount() > 0) {
            throw BadInputException.inFile(BLOB, "ONNX graph bytes hold initializers; weights belong in the tensor table");
        }
        try {
            return new Decoded(OnnxGraphs.fromProto(mp.getGraph(), BLOB, null, false), OnnxReader.opsets(mp));
        } catch (TampException e) {
            throw e;
        } catch (RuntimeException e) {
            throw BadInputException.inFile(BLOB, "malformed ONNX graph: " + OnnxTensors.oneLine(e.toString()), e);
        }
    }
}
