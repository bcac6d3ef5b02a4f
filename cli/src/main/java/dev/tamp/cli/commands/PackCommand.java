package dev.tamp.cli.commands;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.cli.support.LoadedModel;
import dev.tamp.cli.support.Provenance;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.StderrProgress;
import dev.tamp.formats.TpkModelWriter;
import dev.tamp.formats.codec.PackLayouts;
import dev.tamp.runtime.kernels.PackedKernels;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "pack", mixinStandardHelpOptions = true,
        description = {"Re-lay every encoded weight out for one device's kernel, once, at conversion time (formats.md §3.7, §5, §6): "
                + "INT4 and MXFP4 nibbles split by the vector width (neon 16-byte, avx2 32-byte, avx512 64-byte chunks), "
                + "INT8/MX code rows padded to the vector width, cuda rows padded to 16 bytes (2:4 metadata rows too). "
                + "The layout is recorded per tensor; `generic` undoes any pack. `host` picks this machine's vector width."},
        footer = {"", "Examples:", "  tamp quantize minilm --method rtn --bits 4 -o w4.tpk && tamp pack w4.tpk --device avx2 -o w4-avx2.tpk",
                "  tamp pack w4-avx2.tpk --device cuda --json -o w4-cuda.tpk"})
public final class PackCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL") String model;

    @Option(names = "--device", required = true, paramLabel = "DEVICE",
            description = "generic, neon, avx2, avx512, cuda, or host (this machine's vector width).") String device;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.tpk", description = "The pack to write (atomically: a temporary file renamed into place).") Path output;

    @Option(names = "--json", description = "Print the report as one JSON document.") boolean json;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        String dev = device.toLowerCase(Locale.ROOT);
        Layout layout;
        if (dev.equals("host")) {
            layout = PackedKernels.hostLayout();
            if (layout == null) throw new UnsupportedModelException("this machine's vector width has no split layout; pack for generic");
            dev = switch (layout) {
                case SPLIT16 -> "neon";
                case SPLIT64 -> "avx512";
                default -> "avx2";
            };
        } else {
            try {
                layout = PackLayouts.forDevice(dev);
            } catch (IllegalArgumentException e) {
                throw new BadInputException("--device: " + e.getMessage());
            }
        }
        StderrProgress progress = StderrProgress.forStderr();
        LoadedModel lm = LoadedModel.load(model, null, progress);
        Map<String, EncodedTensor> out = new LinkedHashMap<>();
        Map<String, Integer> byEncoding = new TreeMap<>();
        long before = 0, after = 0;
        int packed = 0;
        progress.begin("pack " + dev, lm.model.weights().size());
        long done = 0;
        for (Map.Entry<String, EncodedTensor> e : lm.model.weights().entrySet()) {
            EncodedTensor t = e.getValue(), p;
            try {
                p = PackLayouts.pack(t, layout);
            } catch (BadInputException | UnsupportedModelException ex) {
                throw new BadInputException("weight " + e.getKey() + ": " + ex.getMessage());
            }
            out.put(e.getKey(), p);
            if (t instanceof IntGroupedWeight || t instanceof MxWeight || t instanceof Sparse24Weight) {
                packed++;
                byEncoding.merge(p.describe(), 1, Integer::sum);
            }
            before += t.storageBytes();
            after += p.storageBytes();
            progress.update(++done, e.getKey());
        }
        progress.end();
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("device", dev);
        opts.put("layout", layout.name());
        TpkModelWriter.write(lm.model.withWeights(out).withStep(Provenance.step("pack", opts)), output);
        PrintWriter pw = spec.commandLine().getOut();
        if (json) {
            ObjectNode j = Json.object();
            j.put("output", output.toString());
            j.put("device", dev);
            j.put("layout", layout.name());
            j.put("weights", out.size());
            j.put("packed", packed);
            j.put("bytes_before", before);
            j.put("bytes_after", after);
            ObjectNode enc = j.putObject("packed_by_encoding");
            byEncoding.forEach(enc::put);
            pw.println(Json.pretty(j));
        } else {
            pw.printf(Locale.ROOT, "packed %d of %d weights for %s (layout %s): %,d -> %,d bytes (%+.2f%% padding)%n", packed, out.size(), dev,
                    layout.name(), before, after, before == 0 ? 0 : 100.0 * (after - before) / before);
            byEncoding.forEach((k, v) -> pw.printf(Locale.ROOT, "  %-24s %d%n", k, v));
            pw.println("wrote " + output);
        }
        pw.flush();
        return 0;
    }
}
