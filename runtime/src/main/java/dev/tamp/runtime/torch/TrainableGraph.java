package dev.tamp.runtime.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Graph;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.Node;
import dev.tamp.core.ir.ValueInfo;
import dev.tamp.runtime.kernels.WeightDecoders;
import dev.tamp.runtime.ops.OpRegistry;
import dev.tamp.runtime.value.Value;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The graph on libtorch with autograd: the same op implementations as the torch backend ({@link TorchOps}), but the
 * caller supplies the trainable weights as tensors (typically with {@code setRequiresGradient(true)}) for each forward,
 * and the requested outputs come back as tensors so a loss can be built on them and back-propagated with DJL's
 * {@code GradientCollector}. Every other weight is a constant uploaded once. An op without a torch implementation
 * (a java fallback, which would cut the gradient) is refused when a gradient-carrying tensor reaches it.
 */
public final class TrainableGraph implements AutoCloseable {
    private final Graph graph;
    private final NDManager manager;
    private final Map<String, Object> constants = new HashMap<>();
    private final Set<String> trainable;
    private final Set<Object> constantSet = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    private final long opset;

    public TrainableGraph(Model model, Set<String> trainable) {
        if (model.graph() == null) throw new UnsupportedModelException(model.source() + ": has no graph to execute");
        this.graph = model.graph();
        this.trainable = Set.copyOf(trainable);
        this.manager = NDManager.newBaseManager(new TorchBackend("cpu").device(), "PyTorch");
        this.opset = model.opsets().getOrDefault("", 17L);
        for (Node n : graph.nodes()) {
            if (!TorchOps.supports(n.opType()) && OpRegistry.get(n.domain(), n.opType()) == null) {
                throw new UnsupportedModelException("node " + n.label() + ": unsupported op " + n.opType());
            }
        }
        for (String t : trainable) {
            if (!model.weights().containsKey(t)) throw new BadInputException("no weight named " + t + " in " + model.source());
        }
        for (Map.Entry<String, EncodedTensor> e : model.weights().entrySet()) {
            if (this.trainable.contains(e.getKey())) continue;
            EncodedTensor w = e.getValue();
            if (w instanceof DenseWeight d && !d.tensor().dtype().isFloatingPoint()) {
                constants.put(e.getKey(), Value.of(d.tensor()));
            } else {
                constants.put(e.getKey(), manager.create(WeightDecoders.decodeAsStored(e.getKey(), w), new Shape(w.shape())));
            }
        }
        constantSet.addAll(constants.values());
    }

    /** The manager that owns the constants; open a sub-manager per step for the step's tensors. */
    public NDManager manager() {
        return manager;
    }

    /**
     * One forward pass. {@code params} must hold a tensor for every trainable weight, in the graph's shape; the
     * tensors created here belong to {@code run}.
     */
    public Map<String, NDArray> forward(NDManager run, Map<String, NDArray> params, Map<String, Value> inputs, Collection<String> outputs) {
        Map<String, Object> values = new HashMap<>(constants);
        for (String t : trainable) {
            NDArray p = params.get(t);
            if (p == null) throw new IllegalArgumentException("no tensor given for trainable weight " + t);
            values.put(t, p);
        }
        for (ValueInfo v : graph.inputs()) {
            Value x = inputs.get(v.name());
            if (x == null) throw new BadInputException("missing model input " + v.name());
            values.put(v.name(), x.isFloat() ? TorchOps.upload(run, x) : x);
        }
        for (Node n : graph.nodes()) {
            Object[] in = new Object[n.inputs().size()];
            boolean anyTensor = false, anyGrad = false;
            for (int i = 0; i < in.length; i++) {
                String name = n.inputs().get(i);
                in[i] = name.isEmpty() ? null : values.get(name);
                if (!name.isEmpty() && in[i] == null) throw new UnsupportedModelException("node " + n.label() + ": input " + name + " is not computed");
                if (in[i] instanceof NDArray a) {
                    anyTensor = true;
                    anyGrad |= a.getDataType().isFloating() && a.hasGradient();
                }
            }
            Object[] out;
            if (!anyTensor && OpRegistry.get(n.domain(), n.opType()) != null) {
                Value[] jin = new Value[in.length];
                for (int i = 0; i < in.length; i++) jin[i] = (Value) in[i];
                out = OpRegistry.get(n.domain(), n.opType()).run(n, jin, new dev.tamp.runtime.ops.OpContext(opset, Map.of(),
                        dev.tamp.runtime.kernels.Parallel.shared()));
            } else {
                out = TorchOps.run(n, in, run, opset);
            }
            if (anyGrad && !TorchOps.supports(n.opType())) {
                throw new UnsupportedModelException("node " + n.label() + " (" + n.opType() + ") has no differentiable torch implementation; "
                        + "training through it is not supported");
            }
            for (int o = 0; o < n.outputs().size() && o < out.length; o++) {
                // an op's result belongs to its first operand's manager, which may be the constants' one: move it to this run's
                if (out[o] instanceof NDArray a && a.getManager() != run && !constantSet.contains(a)) a.attach(run);
                values.put(n.outputs().get(o), out[o]);
            }
        }
        Map<String, NDArray> result = new LinkedHashMap<>();
        for (String w : outputs) {
            Object v = values.get(w);
            if (!(v instanceof NDArray a)) throw new BadInputException("no tensor named " + w + " in the graph");
            result.put(w, a);
        }
        return result;
    }

    @Override
    public void close() {
        manager.close();
    }
}
