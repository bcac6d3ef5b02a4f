package dev.tamp.cli.export;

import dev.tamp.cli.commands.ExportCommand.Line;
import dev.tamp.core.ir.Model;
import java.nio.file.Path;
import java.util.List;

public final class GgufExport {
    private GgufExport() {}

    public static List<Line> write(Model model, Path out) {
        throw new dev.tamp.core.error.UnsupportedModelException("not yet");
    }
}
