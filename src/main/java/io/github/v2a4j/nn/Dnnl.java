package io.github.v2a4j.nn;

import static org.bytedeco.dnnl.global.dnnl.*;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * oneDNN 3 (the {@code org.bytedeco:dnnl} preset): the engine, the stream and the small amount of plumbing the
 * kernels share — memory descriptors over ND4J arrays, a cache of built primitives, execution.
 *
 * <p>oneDNN picks its kernels from the CPU's features at run time (AVX2, AVX-512, AVX512-BF16, AMX), so the GEMMs
 * and convolutions built on it run the best code the machine has, whatever the environment says about OpenBLAS.
 * Primitives are built once per shape (JIT-compiled) and kept: a UNet forward uses a few dozen shapes, then reuses
 * them for all 51 evaluations.
 *
 * <p>Thread safety: primitives may be executed from any thread, but a cached {@link Prim} holds one set of memory
 * objects whose data handles are set per call, so {@link Prim#run} is synchronised on the primitive.
 */
public final class Dnnl {
    private Dnnl() {}

    private static final class Holder {
        static final dnnl_engine ENGINE = new dnnl_engine();
        static final dnnl_stream STREAM = new dnnl_stream();

        static {
            check(dnnl_engine_create(ENGINE, dnnl_cpu, 0), "create the CPU engine");
            check(dnnl_stream_create(STREAM, ENGINE, dnnl_stream_default_flags), "create a stream");
        }
    }

    static dnnl_engine engine() {
        return Holder.ENGINE;
    }

    /** Throws with oneDNN's status name when a call fails. */
    static void check(int status, String what) {
        if (status == dnnl_success) return;
        String name = switch (status) {
            case dnnl_out_of_memory -> "out of memory";
            case dnnl_invalid_arguments -> "invalid arguments";
            case dnnl_unimplemented -> "unimplemented";
            case dnnl_last_impl_reached -> "no implementation";
            case dnnl_runtime_error -> "runtime error";
            default -> "status " + status;
        };
        throw new IllegalStateException("oneDNN: cannot " + what + " (" + name + ")");
    }

    static int type(DataType t) {
        return switch (t) {
            case FLOAT -> dnnl_f32;
            case BFLOAT16 -> dnnl_bf16;
            case HALF -> dnnl_f16;
            case BYTE -> dnnl_s8;
            case UBYTE -> dnnl_u8;
            default -> throw new IllegalArgumentException("oneDNN kernels do not take " + t + " tensors");
        };
    }

    /** A descriptor of {@code x}'s dims and strides (in elements). */
    static dnnl_memory_desc desc(INDArray x) {
        return desc(x.shape(), x.dataType(), x.stride());
    }

    static dnnl_memory_desc desc(long[] dims, DataType t, long[] strides) {
        dnnl_memory_desc d = new dnnl_memory_desc();
        check(dnnl_memory_desc_create_with_strides(d, dims.length, dims, type(t), strides), "describe a tensor");
        return d;
    }

    /** A descriptor that lets the primitive choose the layout (for weights packed once). */
    static dnnl_memory_desc anyLayout(long[] dims, DataType t) {
        dnnl_memory_desc d = new dnnl_memory_desc();
        check(dnnl_memory_desc_create_with_tag(d, dims.length, dims, type(t), dnnl_format_tag_any), "describe a tensor");
        return d;
    }

    /**
     * The address of {@code x}'s first element. ND4J gives a view its own data buffer that already starts at the
     * view's first element ({@code x.offset()} only repeats where that is in the parent).
     */
    static Pointer address(INDArray x) {
        return x.data().addressPointer();
    }

    /** A cache key from the parts that decide a primitive. */
    static String key(Object... parts) {
        StringBuilder sb = new StringBuilder();
        for (Object p : parts) {
            if (p instanceof long[] a) {
                sb.append(java.util.Arrays.toString(a));
            } else {
                sb.append(p);
            }
            sb.append('|');
        }
        return sb.toString();
    }

    /** Built primitives by key, least recently used dropped first. */
    private static final int MAX_CACHED = 2048;
    private static final Map<String, Prim> CACHE = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Prim> eldest) {
            if (size() <= MAX_CACHED) return false;
            eldest.getValue().destroy();
            return true;
        }
    };

    static Prim cached(String key, Supplier<Prim> build) {
        synchronized (CACHE) {
            Prim p = CACHE.get(key);
            if (p == null) {
                p = build.get();
                CACHE.put(key, p);
            }
            return p;
        }
    }

    /** Primitives built so far (tests check that repeated calls reuse them). */
    static int cachedCount() {
        synchronized (CACHE) {
            return CACHE.size();
        }
    }

    /**
     * Builds a primitive from a descriptor made by {@code create} (with {@code attr}, destroyed here), keeping one
     * memory object per argument.
     */
    static Prim build(String what, java.util.function.Function<dnnl_primitive_attr, dnnl_primitive_desc> create,
                      java.util.function.Consumer<dnnl_primitive_attr> configure, int... args) {
        dnnl_primitive_attr attr = new dnnl_primitive_attr();
        check(dnnl_primitive_attr_create(attr), "create attributes");
        try {
            if (configure != null) configure.accept(attr);
            dnnl_primitive_desc pd = create.apply(attr);
            return new Prim(what, pd, args);
        } finally {
            dnnl_primitive_attr_destroy(attr);
        }
    }

    /** Sets on {@code attr} the post-ops that {@code append} adds (creating and freeing the list). */
    static void postOps(dnnl_primitive_attr attr, java.util.function.Consumer<dnnl_post_ops> append) {
        dnnl_post_ops po = new dnnl_post_ops();
        check(dnnl_post_ops_create(po), "create post-ops");
        try {
            append.accept(po);
            check(dnnl_primitive_attr_set_post_ops(attr, po), "set post-ops");
        } finally {
            dnnl_post_ops_destroy(po);
        }
    }

    /**
     * Copies {@code src} into {@code dst} (same dims, any strides and data types): oneDNN's vectorised, threaded
     * reorder, used for fp32 ↔ bf16 rounding and layout changes.
     */
    public static void reorder(INDArray src, INDArray dst) {
        if (!java.util.Arrays.equals(src.shape(), dst.shape())) {
            throw new IllegalArgumentException("reorder: " + java.util.Arrays.toString(src.shape()) + " → "
                    + java.util.Arrays.toString(dst.shape()));
        }
        String key = key("reorder", src.dataType(), src.shape(), src.stride(), dst.dataType(), dst.stride());
        Prim p = cached(key, () -> {
            dnnl_memory_desc from = desc(src);
            dnnl_memory_desc to = desc(dst);
            try {
                return build("reorder", attr -> {
                    dnnl_primitive_desc pd = new dnnl_primitive_desc();
                    check(dnnl_reorder_primitive_desc_create(pd, from, engine(), to, engine(), attr), "describe a reorder");
                    return pd;
                }, null, DNNL_ARG_FROM, DNNL_ARG_TO);
            } finally {
                dnnl_memory_desc_destroy(from);
                dnnl_memory_desc_destroy(to);
            }
        });
        p.run(address(src), address(dst));
    }

    /**
     * Reorders {@code src} (described by {@code from}) into a buffer of layout {@code to}, returned as bytes; the
     * buffer comes from the current pool when it holds one of that size ({@link Buffers#takeExact}): a streamed
     * model's next layer packs into the memory its previous layer released, instead of faulting in fresh pages.
     * Give it back with {@link Buffers#release}.
     */
    static INDArray pack(INDArray src, dnnl_memory_desc from, dnnl_memory_desc to) {
        INDArray out = Buffers.takeExact(DataType.BYTE, dnnl_memory_desc_get_size(to));
        Prim p = build("weight packing", attr -> {
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            check(dnnl_reorder_primitive_desc_create(pd, from, engine(), to, engine(), attr), "describe a packing");
            return pd;
        }, null, DNNL_ARG_FROM, DNNL_ARG_TO);
        try {
            p.run(address(src), address(out));
        } finally {
            p.destroy();
        }
        return out;
    }

    /** A built primitive with its descriptor and one memory object per execution argument. */
    static final class Prim {
        final String what;
        final dnnl_primitive_desc pd;
        final dnnl_primitive primitive = new dnnl_primitive();
        final int[] args;
        final dnnl_memory[] memories;
        private final dnnl_exec_arg_t execArgs;

        private Prim(String what, dnnl_primitive_desc pd, int[] args) {
            this.what = what;
            this.pd = pd;
            this.args = args;
            check(dnnl_primitive_create(primitive, pd), "build " + what);
            memories = new dnnl_memory[args.length];
            execArgs = new dnnl_exec_arg_t(args.length);
            for (int i = 0; i < args.length; i++) {
                dnnl_memory_desc md = queryArg(args[i]);
                dnnl_memory m = new dnnl_memory();
                check(dnnl_memory_create(m, md, engine(), (Pointer) null), "create memory for " + what);
                memories[i] = m;
                execArgs.position(i).arg(args[i]).memory(m);
            }
            execArgs.position(0);
        }

        /** The descriptor the primitive expects for {@code arg} (owned by the primitive descriptor). */
        dnnl_memory_desc queryArg(int arg) {
            return dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
        }

        /** The implementation oneDNN chose (e.g. {@code brg_matmul:avx512_core_bf16}). */
        String implementation() {
            PointerPointer<BytePointer> out = new PointerPointer<>(1);
            check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, out), "query " + what);
            return out.get(BytePointer.class, 0).getString();
        }

        /** Runs with one data pointer per argument, in the order of {@link #args}; waits for the result. */
        void run(Pointer... data) {
            synchronized (this) {
                for (int i = 0; i < data.length; i++) {
                    check(dnnl_memory_set_data_handle(memories[i], data[i]), "bind " + what);
                }
                check(dnnl_primitive_execute(primitive, Holder.STREAM, args.length, execArgs), "run " + what);
                check(dnnl_stream_wait(Holder.STREAM), "finish " + what);
            }
        }

        void destroy() {
            for (dnnl_memory m : memories) dnnl_memory_destroy(m);
            dnnl_primitive_destroy(primitive);
            dnnl_primitive_desc_destroy(pd);
        }
    }
}
