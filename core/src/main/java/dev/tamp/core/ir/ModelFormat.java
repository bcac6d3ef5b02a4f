package dev.tamp.core.ir;

/** The checkpoint format a model was read from. */
public enum ModelFormat {
    ONNX("onnx"), SAFETENSORS("safetensors"), PYTORCH("pytorch"), GGUF("gguf"), LLAMA2C("llama2c"), TPK("tpk");

    private final String id;

    ModelFormat(String id) { this.id = id; }

    /** Stable identifier used in --json output. */
    public String id() { return id; }
}
