package dev.tamp.formats.safetensors;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.json.Json;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.io.AtomicFiles;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes a safetensors file: tensors in the given order, the JSON header padded with spaces so data starts
 * 8-byte aligned, optional string metadata; atomic and deterministic.
 */
public final class SafetensorsWriter {
    private SafetensorsWriter() {}

    /**
     * Writes {@code tensors} (in iteration order, contiguous, no gaps) and optional string {@code metadata}
     * (null or empty: no {@code __metadata__} entry) to {@code out}, replacing it atomically.
     */
    public static void write(Path out, Map<String, Tensor> tensors, Map<String, String> metadata) {
        if (tensors.containsKey("__metadata__")) throw new IllegalArgumentException("a tensor cannot be named __metadata__");
        ObjectNode header = Json.mapper().createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long off = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            ObjectNode o = header.putObject(e.getKey());
            o.put("dtype", SafetensorsDTypes.name(t.dtype()));
            ArrayNode s = o.putArray("shape");
            for (long d : t.shape()) s.add(d);
            ArrayNode d = o.putArray("data_offsets");
            d.add(off);
            d.add(off + t.byteSize());
            off += t.byteSize();
        }
        byte[] json;
        try {
            json = Json.mapper().writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] hdr = new byte[padded];
        java.util.Arrays.fill(hdr, (byte) ' ');
        System.arraycopy(json, 0, hdr, 0, json.length);
        AtomicFiles.writeStream(out, o -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, padded);
            o.write(len.array());
            o.write(hdr);
            WritableByteChannel ch = Channels.newChannel(o);
            for (Tensor t : tensors.values()) {
                ByteBuffer b = t.data();
                while (b.hasRemaining()) ch.write(b);
            }
        });
    }
}
