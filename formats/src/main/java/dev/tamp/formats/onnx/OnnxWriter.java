package dev.tamp.formats.onnx;

import dev.tamp.core.Version;
import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.AtomicFiles;
import dev.tamp.formats.onnx.proto.OnnxProto.ModelProto;
import dev.tamp.formats.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.tamp.formats.onnx.proto.OnnxProto.TensorProto;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a model with a graph and dense weights as ONNX. Weights of at least {@code externalThreshold}
 * bytes go to one sidecar file {@code <name>.data} (64-byte aligned), which models over protobuf's 2 GiB
 * limit need. Output is deterministic and written atomically (both files).
 */
public final class OnnxWriter {
    public static final long NO_EXTERNAL = Long.MAX_VALUE;
    private static final int ALIGN = 64;

    private OnnxWriter() {}

    public static void write(Model model, Path out) {
        write(model, out, NO_EXTERNAL);
    }

    public static void write(Model model, Path out, long externalThreshold) {
        if (model.graph() == null) throw new UnsupportedModelException(model.source() + ": has no graph to write as ONNX");
        String dataName = out.getFileName() + ".data";
        List<TensorProto> inits = new ArrayList<>();
        List<Tensor> external = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, EncodedTensor> e : model.weights().entrySet()) {
            if (!(e.getValue() instanceof DenseWeight d)) {
                throw new UnsupportedModelException(model.source() + ": weight " + e.getKey() + " is encoded as "
                        + e.getValue().describe() + "; plain ONNX export needs dense weights");
            }
            Tensor t = d.tensor();
            if (t.byteSize() >= externalThreshold) {
                offset = (offset + ALIGN - 1) / ALIGN * ALIGN;
                inits.add(OnnxTensors.toExternalProto(e.getKey(), t, dataName, offset));
                external.add(t);
                offset += t.byteSize();
            } else {
                inits.add(OnnxTensors.toProto(e.getKey(), t));
            }
        }
        ModelProto mp = modelProto(model, inits);
        if (!external.isEmpty()) {
            AtomicFiles.writeStream(out.resolveSibling(dataName), o -> writeExternal(o, external));
        }
        long size = mp.getSerializedSize();
        if (size < 0 || size > Integer.MAX_VALUE) {
            throw new BadInputException(out + ": the ONNX protobuf would exceed 2 GiB; use external data");
        }
        AtomicFiles.writeStream(out, mp::writeTo);
    }

    static ModelProto modelProto(Model model, List<TensorProto> inits) {
        ModelProto.Builder b = ModelProto.newBuilder().setIrVersion(8).setProducerName("tamp").setProducerVersion(Version.VERSION);
        Map<String, Long> opsets = model.opsets().isEmpty() ? Map.of("", 17L) : model.opsets();
        for (Map.Entry<String, Long> o : opsets.entrySet()) {
            b.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(o.getKey()).setVersion(o.getValue()));
        }
        b.setGraph(OnnxGraphs.toProto(model.graph(), inits));
        return b.build();
    }

    private static void writeExternal(OutputStream o, List<Tensor> tensors) throws java.io.IOException {
        WritableByteChannel ch = Channels.newChannel(o);
        long pos = 0;
        for (Tensor t : tensors) {
            long aligned = (pos + ALIGN - 1) / ALIGN * ALIGN;
            o.write(new byte[(int) (aligned - pos)]);
            java.nio.ByteBuffer b = t.data();
            while (b.hasRemaining()) ch.write(b);
            pos = aligned + t.byteSize();
        }
    }
}
