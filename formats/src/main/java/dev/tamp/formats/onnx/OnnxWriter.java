package dev.tamp.formats.onnx;

import dev.tamp.core.Version;
import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Graph;
import dev.tamp.core.ir.Model;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.io.AtomicFiles;
import dev.tamp.formats.onnx.proto.OnnxProto.ModelProto;
import dev.tamp.formats.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.tamp.formats.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.tamp.formats.onnx.proto.OnnxProto.TensorProto;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a model (graph + dense weights) as an ONNX file. Initializers follow the model's weight order.
 *
 * <p>Weights of at least {@code externalThreshold} bytes go to one sidecar file {@code <file name>.data}
 * beside the model, each at a 4096-byte aligned offset (so runtimes can map them), referenced with
 * {@code location}/{@code offset}/{@code length}. A protobuf message cannot exceed 2 GiB, so models whose
 * weights approach that size need it; {@link #write(Model, Path)} switches to it by itself.
 *
 * <p>The bytes are a function of the model alone (no timestamps; producer "tamp" and tamp's version; the
 * IR version is the lowest that the default-domain opset needs). Each file is written to a temporary file
 * in the target directory and renamed over the target.
 */
public final class OnnxWriter {
    /** Threshold meaning "keep every tensor inline". */
    public static final long NO_EXTERNAL = Long.MAX_VALUE;
    /** Weight bytes above which {@link #write(Model, Path)} moves tensors out: 2 GiB less room for the graph. */
    static final long AUTO_EXTERNAL_ABOVE = (1L << 31) - (256L << 20);
    /** Tensors of at least this size are moved out when the automatic switch applies. */
    static final long AUTO_THRESHOLD = 1024;
    private static final int ALIGN = 4096;
    private static final long DEFAULT_OPSET = 17;

    private OnnxWriter() {}

    /** Writes inline, or with external data when the weights would not fit one protobuf message. */
    public static void write(Model model, Path out) {
        write(model, out, externalThresholdFor(model));
    }

    /** Writes with every weight of at least {@code externalThreshold} bytes in the sidecar file. */
    public static void write(Model model, Path out, long externalThreshold) {
        if (model.graph() == null) throw new UnsupportedModelException(model.source() + ": has no graph to write as ONNX");
        String dataName = out.getFileName() + ".data";
        List<TensorProto> inits = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        List<Tensor> external = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, EncodedTensor> e : model.weights().entrySet()) {
            Tensor t = dense(model, e.getKey(), e.getValue());
            if (t.byteSize() >= externalThreshold) {
                offset = align(offset);
                inits.add(OnnxTensors.toExternalProto(e.getKey(), t, dataName, offset));
                offsets.add(offset);
                external.add(t);
                offset += t.byteSize();
            } else {
                inits.add(OnnxTensors.toProto(e.getKey(), t));
            }
        }
        ModelProto mp = modelProto(model.graph(), model.opsets(), inits).toBuilder()
                .setProducerName("tamp").setProducerVersion(Version.VERSION)
                .addAllMetadataProps(metadata(model.config())).build();
        long size = mp.getSerializedSize();
        if (size < 0 || size > Integer.MAX_VALUE || inlineBytes(inits) > Integer.MAX_VALUE) {
            throw new UnsupportedModelException(out + ": the ONNX protobuf would exceed protobuf's 2 GiB limit; "
                    + "write the weights as external data");
        }
        if (!external.isEmpty()) AtomicFiles.writeStream(out.resolveSibling(dataName), o -> writeExternal(o, external, offsets));
        AtomicFiles.writeStream(out, mp::writeTo);
    }

    /** {@link #NO_EXTERNAL} unless the dense weights approach protobuf's 2 GiB limit. */
    static long externalThresholdFor(Model model) {
        long total = 0;
        for (Map.Entry<String, EncodedTensor> e : model.weights().entrySet()) {
            total += dense(model, e.getKey(), e.getValue()).byteSize();
        }
        return total > AUTO_EXTERNAL_ABOVE ? AUTO_THRESHOLD : NO_EXTERNAL;
    }

    private static Tensor dense(Model model, String name, EncodedTensor w) {
        if (w instanceof DenseWeight d) return d.tensor();
        throw new UnsupportedModelException(model.source() + ": weight " + name + " is encoded as " + w.describe()
                + "; ONNX export needs dense weights (quantized export is not implemented)");
    }

    /**
     * The ModelProto tamp writes for a graph: ir_version, opset_import and the graph with the given
     * initializers; no producer or metadata (callers add those).
     */
    static ModelProto modelProto(Graph graph, Map<String, Long> opsets, List<TensorProto> inits) {
        Map<String, Long> imports = opsets.isEmpty() ? Map.of("", DEFAULT_OPSET) : opsets;
        ModelProto.Builder b = ModelProto.newBuilder().setIrVersion(irVersionFor(imports.getOrDefault("", 0L)));
        for (Map.Entry<String, Long> o : imports.entrySet()) {
            b.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(o.getKey()).setVersion(o.getValue()));
        }
        b.setGraph(OnnxGraphs.toProto(graph, inits));
        return b.build();
    }

    /**
     * The IR version released with the default-domain opset (ONNX's versioning table), at least 4: tamp
     * lists graph inputs without their initializers, which IR 3 forbade.
     */
    static long irVersionFor(long opset) {
        if (opset <= 9) return 4;
        if (opset == 10) return 5;
        if (opset == 11) return 6;
        if (opset <= 14) return 7;
        if (opset <= 18) return 8;
        if (opset <= 20) return 9;
        if (opset <= 22) return 10;
        return 11;
    }

    /** config "metadata.KEY" entries (as the reader stores metadata_props) go back as metadata_props. */
    private static List<StringStringEntryProto> metadata(Map<String, Object> config) {
        List<StringStringEntryProto> out = new ArrayList<>();
        for (Map.Entry<String, Object> e : config.entrySet()) {
            if (e.getKey().startsWith("metadata.") && e.getValue() != null) {
                out.add(StringStringEntryProto.newBuilder().setKey(e.getKey().substring("metadata.".length()))
                        .setValue(e.getValue().toString()).build());
            }
        }
        return out;
    }

    private static long inlineBytes(List<TensorProto> inits) {
        long n = 0;
        for (TensorProto t : inits) n += t.getRawData().size();
        return n;
    }

    private static long align(long offset) {
        return (offset + ALIGN - 1) / ALIGN * ALIGN;
    }

    private static void writeExternal(OutputStream o, List<Tensor> tensors, List<Long> offsets) throws IOException {
        WritableByteChannel ch = Channels.newChannel(o);
        long pos = 0;
        byte[] zeros = new byte[ALIGN];
        for (int i = 0; i < tensors.size(); i++) {
            long start = offsets.get(i);
            if (start < pos) throw new IllegalStateException("external offsets out of order");
            o.write(zeros, 0, (int) (start - pos));
            ByteBuffer b = tensors.get(i).data();
            while (b.hasRemaining()) ch.write(b);
            pos = start + tensors.get(i).byteSize();
        }
    }
}
