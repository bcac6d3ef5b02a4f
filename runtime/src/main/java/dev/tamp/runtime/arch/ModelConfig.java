package dev.tamp.runtime.arch;

import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Model;
import java.util.Map;

/** Typed access to a model's config map (HF config.json key names), with one-line errors naming the key. */
final class ModelConfig {
    private final Model model;
    private final Map<String, Object> config;

    ModelConfig(Model model) {
        this.model = model;
        this.config = model.config();
    }

    int integer(String key) {
        Object v = config.get(key);
        if (v == null) throw new BadInputException(model.source() + ": config has no '" + key + "'");
        return toInt(key, v);
    }

    int integer(String key, int fallback) {
        Object v = config.get(key);
        return v == null ? fallback : toInt(key, v);
    }

    double real(String key, double fallback) {
        Object v = config.get(key);
        if (v == null) return fallback;
        if (v instanceof Number n) return n.doubleValue();
        try {
            return Double.parseDouble(v.toString());
        } catch (NumberFormatException e) {
            throw new BadInputException(model.source() + ": config '" + key + "' is not a number: " + v);
        }
    }

    boolean flag(String key, boolean fallback) {
        Object v = config.get(key);
        if (v == null) return fallback;
        if (v instanceof Boolean b) return b;
        return Boolean.parseBoolean(v.toString());
    }

    String string(String key, String fallback) {
        Object v = config.get(key);
        return v == null ? fallback : v.toString();
    }

    private int toInt(String key, Object v) {
        try {
            long l = v instanceof Number n ? n.longValue() : Long.parseLong(v.toString().trim());
            if (l < 0 || l > Integer.MAX_VALUE) throw new NumberFormatException();
            return (int) l;
        } catch (NumberFormatException e) {
            throw new BadInputException(model.source() + ": config '" + key + "' is not a valid size: " + v);
        }
    }
}
