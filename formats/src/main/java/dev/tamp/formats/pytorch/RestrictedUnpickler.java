package dev.tamp.formats.pytorch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pickle interpreter that can only rebuild data: dicts, lists, tuples, strings, numbers, and the handful
 * of torch globals a state dict names. It never loads a class or calls anything: a GLOBAL is resolved only
 * against a fixed allow-list of names mapped to our own rebuild functions, and any other name fails the
 * whole file immediately with {@link Refused} naming it (so {@code os.system} or {@code builtins.eval} is
 * refused before anything could use it).
 */
final class RestrictedUnpickler {
    /** A refusal or a malformed stream; the message is user-facing. */
    static final class Refused extends RuntimeException {
        Refused(String message) { super(message); }
    }

    /** A named global from the allow-list. */
    record Global(String module, String name) {
        String qualified() { return module + "." + name; }
    }

    /** A tuple (immutable positional values). */
    record Tuple(List<Object> items) {}

    /** The persistent id of a storage: ('storage', type, key, location, numel). */
    record StorageRef(String type, String key, long numel) {}

    /** A tensor as torch describes it: storage, element offset, size, stride. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {}

    private static final Object MARK = new Object();
    static final Set<String> STORAGE_TYPES = Set.of("FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage",
            "LongStorage", "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage");
    /** torch.&lt;dtype&gt; globals, which name the element type where a storage is untyped. */
    static final Set<String> DTYPES = Set.of("float32", "float", "float16", "half", "bfloat16", "float64", "double",
            "int64", "long", "int32", "int", "int16", "short", "int8", "uint8", "bool");

    private final ByteBuffer in;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new LinkedHashMap<>();

    private RestrictedUnpickler(ByteBuffer in) {
        this.in = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    static Object load(ByteBuffer pickle) {
        try {
            return new RestrictedUnpickler(pickle).run();
        } catch (java.nio.BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new Refused("truncated or malformed pickle stream");
        } catch (StackOverflowError e) {
            // last line of defence; keys are restricted to scalars so hashing cannot recurse through cycles
            throw new Refused("pickle nests objects too deeply");
        }
    }

    static boolean allowed(String module, String name) {
        return (module.equals("collections") && name.equals("OrderedDict"))
                || (module.equals("torch._utils") && (name.equals("_rebuild_tensor_v2") || name.equals("_rebuild_parameter")))
                || (module.equals("torch") && (STORAGE_TYPES.contains(name) || DTYPES.contains(name) || name.equals("Size")));
    }

    private Object run() {
        while (true) {
            int op = in.get() & 0xFF;
            switch (op) {
                case 0x80 -> in.get(); // PROTO
                case 0x95 -> in.getLong(); // FRAME: a length hint
                case '.' -> { return pop(); }
                case '(' -> marks.add(stack.size());
                case '}' -> push(new LinkedHashMap<Object, Object>());
                case ']' -> push(new ArrayList<Object>());
                case ')' -> push(new Tuple(List.of()));
                case 'd' -> push(toDict(popMark()));
                case 'l' -> push(new ArrayList<>(popMark()));
                case 't' -> push(new Tuple(popMark()));
                case 0x85 -> push(new Tuple(List.of(pop())));
                case 0x86 -> { Object b = pop(), a = pop(); push(new Tuple(List.of(a, b))); }
                case 0x87 -> { Object c = pop(), b = pop(), a = pop(); push(new Tuple(List.of(a, b, c))); }
                case 'a' -> { Object v = pop(); list(peek()).add(v); }
                case 'e' -> { List<Object> items = popMark(); list(peek()).addAll(items); }
                case 's' -> { Object v = pop(), k = pop(); dict(peek()).put(key(k), v); }
                case 'u' -> { List<Object> items = popMark(); dict(peek()).putAll(toDict(items)); }
                case 'q' -> memo.put((long) (in.get() & 0xFF), peek());
                case 'r' -> memo.put(in.getInt() & 0xFFFFFFFFL, peek());
                case 0x94 -> memo.put((long) memo.size(), peek());
                case 'h' -> push(memoGet(in.get() & 0xFF));
                case 'j' -> push(memoGet(in.getInt() & 0xFFFFFFFFL));
                case 'c' -> push(global(line(), line()));
                case 0x93 -> { Object name = pop(), module = pop(); push(global(str(module), str(name))); }
                case 'R' -> { Object args = pop(), f = pop(); push(call(f, args)); }
                case 0x81 -> { Object args = pop(), cls = pop(); push(call(cls, args)); } // NEWOBJ
                case 'b' -> { pop(); } // BUILD: object state (e.g. OrderedDict._metadata) is not data we need
                case 'Q' -> push(persistent(pop()));
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'N' -> push(null);
                case 'J' -> push((long) in.getInt());
                case 'K' -> push((long) (in.get() & 0xFF));
                case 'M' -> push((long) (in.getShort() & 0xFFFF));
                case 0x8a -> push(long1(in.get() & 0xFF));
                case 0x8b -> push(long1(in.getInt())); // LONG4: only 64-bit values are accepted
                case 0x8e -> push(bytes(in.getLong())); // BINBYTES8
                case 'G' -> push(in.order(ByteOrder.BIG_ENDIAN).getDouble()); // BINFLOAT is big-endian
                case 'X' -> push(utf8(in.getInt() & 0xFFFFFFFFL));
                case 0x8c -> push(utf8(in.get() & 0xFF));
                case 0x8d -> push(utf8(in.getLong()));
                case 'T' -> push(bytes(in.getInt() & 0xFFFFFFFFL));
                case 'U', 'C' -> push(bytes(in.get() & 0xFF));
                case 'B' -> push(bytes(in.getInt() & 0xFFFFFFFFL));
                case '0' -> pop();
                case '1' -> popMark();
                case '2' -> push(peek());
                default -> throw new Refused("pickle opcode 0x" + Integer.toHexString(op) + " is not allowed in a state dict");
            }
            in.order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    private Global global(String module, String name) {
        if (!allowed(module, name)) {
            String q = (module + "." + name).replaceAll("\\p{Cntrl}", "?");
            throw new Refused("refuses to unpickle global " + (q.length() > 120 ? q.substring(0, 120) + "..." : q)
                    + " (only tensors and plain containers are rebuilt; nothing was executed)");
        }
        return new Global(module, name);
    }

    private Object call(Object f, Object args) {
        if (!(f instanceof Global g)) throw new Refused("pickle calls a non-global");
        List<Object> a = args instanceof Tuple t ? t.items() : List.of();
        switch (g.qualified()) {
            case "collections.OrderedDict":
                return new LinkedHashMap<Object, Object>();
            case "torch.Size":
                return a.isEmpty() ? new Tuple(List.of()) : a.get(0);
            case "torch._utils._rebuild_parameter":
                return a.get(0);
            case "torch._utils._rebuild_tensor_v2": {
                if (a.size() < 4 || !(a.get(0) instanceof StorageRef s)) throw new Refused("malformed _rebuild_tensor_v2 arguments");
                return new TensorRef(s, num(a.get(1)), longs(a.get(2)), longs(a.get(3)));
            }
            default:
                throw new Refused("pickle calls " + g.qualified() + ", which rebuilds no tensor");
        }
    }

    private Object persistent(Object pid) {
        if (!(pid instanceof Tuple t) || t.items().size() < 5 || !"storage".equals(t.items().get(0))) {
            throw new Refused("unexpected persistent id " + describe(pid));
        }
        if (!(t.items().get(1) instanceof Global g) || !(STORAGE_TYPES.contains(g.name()) || DTYPES.contains(g.name()))) {
            throw new Refused("unsupported storage type " + describe(t.items().get(1)));
        }
        return new StorageRef(g.name(), str(t.items().get(2)), num(t.items().get(4)));
    }

    private static long[] longs(Object o) {
        if (!(o instanceof Tuple t)) throw new Refused("expected a tuple of sizes, got " + describe(o));
        long[] r = new long[t.items().size()];
        for (int i = 0; i < r.length; i++) r[i] = num(t.items().get(i));
        return r;
    }

    private static long num(Object o) {
        if (o instanceof Long l) return l;
        throw new Refused("expected an integer, got " + describe(o));
    }

    private static String str(Object o) {
        if (o instanceof String s) return s;
        throw new Refused("expected a string, got " + describe(o));
    }

    private String line() {
        StringBuilder sb = new StringBuilder();
        for (int c; (c = in.get() & 0xFF) != '\n'; ) {
            if (sb.length() > 256) throw new Refused("overlong GLOBAL name");
            sb.append((char) c);
        }
        return sb.toString();
    }

    private String utf8(long n) {
        return new String(bytes(n), StandardCharsets.UTF_8);
    }

    private byte[] bytes(long n) {
        if (n < 0 || n > in.remaining()) throw new Refused("pickle string of " + n + " bytes exceeds the stream");
        byte[] b = new byte[(int) n];
        in.get(b);
        return b;
    }

    private Object long1(int n) {
        if (n < 0 || n > 8) throw new Refused("integer of " + n + " bytes is too large for a state dict");
        byte[] b = bytes(n);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) v = (v << 8) | (b[i] & 0xFF);
        if (n > 0 && n < 8 && (b[n - 1] & 0x80) != 0) v -= 1L << (8 * n);
        return v;
    }

    /** State-dict keys are strings or numbers; anything else could hash through a cycle. */
    private static Object key(Object k) {
        if (k == null || k instanceof String || k instanceof Long || k instanceof Boolean || k instanceof Double) return k;
        throw new Refused("dict key " + describe(k) + " is not a string or number");
    }

    /** A short, non-recursive description for messages (values may be cyclic or huge). */
    static String describe(Object o) {
        if (o == null) return "None";
        if (o instanceof String s) return "'" + (s.length() > 60 ? s.substring(0, 60) + "..." : s).replaceAll("[\\r\\n]", " ") + "'";
        if (o instanceof Long || o instanceof Boolean || o instanceof Double) return o.toString();
        if (o instanceof Global g) return g.qualified();
        return o.getClass().getSimpleName();
    }

    private Object memoGet(long k) {
        if (!memo.containsKey(k)) throw new Refused("pickle refers to missing memo entry " + k);
        return memo.get(k);
    }

    private void push(Object o) {
        if (stack.size() > 1_000_000) throw new Refused("pickle stack too deep");
        stack.add(o);
    }

    private Object pop() {
        if (stack.isEmpty()) throw new Refused("pickle stack underflow");
        return stack.remove(stack.size() - 1);
    }

    private Object peek() {
        if (stack.isEmpty()) throw new Refused("pickle stack underflow");
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) throw new Refused("pickle MARK missing");
        int at = marks.remove(marks.size() - 1);
        List<Object> items = new ArrayList<>(stack.subList(at, stack.size()));
        stack.subList(at, stack.size()).clear();
        return items;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        if (o instanceof List<?> l) return (List<Object>) l;
        throw new Refused("APPEND to a non-list");
    }

    @SuppressWarnings("unchecked")
    private static Map<Object, Object> dict(Object o) {
        if (o instanceof Map<?, ?> m) return (Map<Object, Object>) m;
        throw new Refused("SETITEM on a non-dict");
    }

    private static Map<Object, Object> toDict(List<Object> items) {
        if (items.size() % 2 != 0) throw new Refused("odd number of dict items");
        Map<Object, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < items.size(); i += 2) m.put(key(items.get(i)), items.get(i + 1));
        return m;
    }

}
