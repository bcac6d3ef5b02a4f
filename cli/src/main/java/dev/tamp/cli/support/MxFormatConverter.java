package dev.tamp.cli.support;

import dev.tamp.core.encoding.MxFormat;
import java.util.Arrays;
import picocli.CommandLine;

/** Parses --format/--to names (mxint8, mxfp8, mxfp8-e5m2, mxfp6, mxfp6-e2m3, mxfp4, mxint6, mxint4). */
public final class MxFormatConverter implements CommandLine.ITypeConverter<MxFormat> {
    @Override
    public MxFormat convert(String value) {
        MxFormat f = MxFormat.fromCliName(value);
        if (f == null) {
            throw new CommandLine.TypeConversionException("unknown MX format '" + value + "' (one of "
                    + String.join(", ", Arrays.stream(MxFormat.values()).map(MxFormat::cliName).toList()) + ")");
        }
        return f;
    }
}
