package dev.tamp.runtime.torch;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.runtime.exec.Backend;
import dev.tamp.runtime.exec.Session;

/**
 * The `torch` backend: tamp's graph executed by libtorch through DJL's PyTorch engine (pinned native jars,
 * offline), on `cpu` or `cuda`. Float tensors live as libtorch tensors on the device; small integer shape
 * tensors are computed by the java backend's ops, as runtimes commonly do with shape arithmetic.
 */
public final class TorchBackend implements Backend {
    private final String deviceName;

    public TorchBackend(String device) {
        this.deviceName = device == null || device.isEmpty() ? "cpu" : device;
    }

    @Override public String name() { return "torch:" + deviceName; }

    /** The DJL device, after checking that libtorch loads (offline) and, for cuda, that a GPU is usable. */
    Device device() {
        System.setProperty("ai.djl.offline", "true");
        Engine engine;
        try {
            engine = Engine.getEngine("PyTorch");
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            throw new UnsupportedModelException("torch backend unavailable: libtorch could not be loaded offline (" + e.getMessage() + ")");
        }
        if (deviceName.equals("cpu")) return Device.cpu();
        if (deviceName.equals("cuda") || deviceName.startsWith("cuda")) {
            if (engine.getGpuCount() <= 0) {
                throw new UnsupportedModelException("torch:cuda requested but libtorch sees no CUDA device (this build bundles the CPU "
                        + "libtorch; set PYTORCH_LIBRARY_PATH to a CUDA build of libtorch " + engine.getVersion() + ")");
            }
            return Device.gpu(0);
        }
        throw new UnsupportedModelException("unknown torch device '" + deviceName + "' (cpu or cuda)");
    }

    @Override
    public Session open(Model model) {
        return new TorchSession(model, device());
    }
}
