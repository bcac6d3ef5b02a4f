package dev.tamp.cli.export;

import dev.tamp.cli.commands.ExportCommand.Line;
import dev.tamp.core.ir.Model;
import java.nio.file.Path;
import java.util.List;

public final class SafetensorsExport {
    public enum FloatType { F32, F16 }

    private SafetensorsExport() {}

    public static List<Line> write(Model model, FloatType ft, Path out) {
        throw new dev.tamp.core.error.UnsupportedModelException("not yet");
    }
}
