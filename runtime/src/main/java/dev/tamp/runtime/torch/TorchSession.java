package dev.tamp.runtime.torch;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.TampException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Graph;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.Node;
import dev.tamp.core.ir.ValueInfo;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.Session;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.kernels.WeightDecoders;
import dev.tamp.runtime.ops.Op;
import dev.tamp.runtime.ops.OpContext;
import dev.tamp.runtime.ops.OpRegistry;
import dev.tamp.runtime.value.Value;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a graph on libtorch. A value is either a device tensor (floating point) or a java {@link Value}
 * (integers, booleans). An op whose inputs are all java values runs the java op; otherwise its torch
 * implementation ({@link TorchOps}). Weights are uploaded once; each run's tensors live in a sub-manager
 * closed when the run ends.
 */
final class TorchSession implements Session {
    private final Graph graph;
    private final NDManager manager;
    private final Map<String, Object> weights = new HashMap<>();
    /** The uploaded weight tensors, by identity: they live as long as the session. */
    private final java.util.Set<Object> uploaded = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    private final OpContext javaCtx;
    private final long opset;

    TorchSession(Model model, Device device) {
        if (model.graph() == null) throw new UnsupportedModelException(model.source() + ": has no graph to execute");
        this.graph = model.graph();
        this.manager = NDManager.newBaseManager(device, "PyTorch");
        this.opset = model.opsets().getOrDefault("", 17L);
        this.javaCtx = new OpContext(opset, Map.of(), Parallel.shared());
        for (Node n : graph.nodes()) {
            if (!TorchOps.supports(n.opType()) && OpRegistry.get(n.domain(), n.opType()) == null) {
                throw new UnsupportedModelException("node " + n.label() + ": unsupported op " + n.opType());
            }
        }
        for (Map.Entry<String, EncodedTensor> e : model.weights().entrySet()) {
            EncodedTensor w = e.getValue();
            if (w instanceof DenseWeight d && !d.tensor().dtype().isFloatingPoint()) {
                weights.put(e.getKey(), Value.of(d.tensor()));
            } else {
                float[] f = WeightDecoders.decodeAsStored(e.getKey(), w);
                NDArray t = manager.create(f, new Shape(w.shape()));
                weights.put(e.getKey(), t);
                uploaded.add(t);
            }
        }
    }

    @Override
    public Map<String, Value> run(Map<String, Value> inputs, Collection<String> outputs, ExecutionListener listener) {
        try (NDManager run = manager.newSubManager()) {
            Map<String, Object> values = new HashMap<>(weights);
            for (ValueInfo v : graph.inputs()) {
                Value x = inputs.get(v.name());
                if (x == null) throw new BadInputException("missing model input " + v.name());
                values.put(v.name(), x.isFloat() ? TorchOps.upload(run, x) : x);
            }
            for (Node n : graph.nodes()) {
                Object[] in = new Object[n.inputs().size()];
                boolean anyTensor = false;
                for (int i = 0; i < in.length; i++) {
                    String name = n.inputs().get(i);
                    in[i] = name.isEmpty() ? null : values.get(name);
                    if (!name.isEmpty() && in[i] == null) throw new UnsupportedModelException("node " + n.label() + ": input " + name + " is not computed");
                    anyTensor |= in[i] instanceof NDArray;
                }
                Object[] out;
                try {
                    if (!anyTensor && OpRegistry.get(n.domain(), n.opType()) != null) {
                        Value[] jin = Arrays.stream(in).map(o -> (Value) o).toArray(Value[]::new);
                        Op op = OpRegistry.get(n.domain(), n.opType());
                        out = op.run(n, jin, javaCtx);
                    } else {
                        out = TorchOps.run(n, in, run, opset);
                    }
                } catch (TampException e) {
                    throw e;
                } catch (RuntimeException e) {
                    throw new UnsupportedModelException("node " + n.label() + " (" + n.opType() + ") on torch: " + e.getMessage(), e);
                }
                for (int o = 0; o < n.outputs().size() && o < out.length; o++) {
                    // a result belongs to its first operand's manager, which may be the weights' (e.g. Gather on the
                    // embedding table): move it to this run's manager or it outlives the run (a leak per call)
                    if (out[o] instanceof NDArray a && a.getManager() != run && !uploaded.contains(a)) a.attach(run);
                    values.put(n.outputs().get(o), out[o]);
                }
                if (listener != ExecutionListener.NONE) {
                    listener.onNode(n, Arrays.stream(in).map(TorchOps::download).toArray(Value[]::new),
                            Arrays.stream(out).map(TorchOps::download).toArray(Value[]::new));
                }
            }
            List<String> wanted = outputs.isEmpty() ? graph.outputs().stream().map(ValueInfo::name).toList() : List.copyOf(outputs);
            Map<String, Value> result = new LinkedHashMap<>();
            for (String w : wanted) {
                Object v = values.get(w);
                if (v == null) throw new BadInputException("no value named " + w + " in the graph");
                result.put(w, TorchOps.download(v));
            }
            return result;
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
