package dev.tamp.cli;

import dev.tamp.cli.commands.CalibrateCommand;
import dev.tamp.cli.commands.CompotCommand;
import dev.tamp.cli.commands.ConvertCommand;
import dev.tamp.cli.commands.DistillCommand;
import dev.tamp.cli.commands.EvalCommand;
import dev.tamp.cli.commands.ExportCommand;
import dev.tamp.cli.commands.InspectCommand;
import dev.tamp.cli.commands.MxCommand;
import dev.tamp.cli.commands.MxSliceCommand;
import dev.tamp.cli.commands.PackCommand;
import dev.tamp.cli.commands.PruneCommand;
import dev.tamp.cli.commands.QuantizeCommand;
import dev.tamp.cli.commands.RecipeCommand;
import dev.tamp.cli.commands.RunCommand;
import dev.tamp.cli.commands.VerifyCommand;
import dev.tamp.core.Version;
import dev.tamp.core.error.ExitCode;
import dev.tamp.core.error.TampException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The `tamp` command: subcommands, global options, and the mapping from errors to exit codes. */
@Command(name = "tamp", mixinStandardHelpOptions = true, versionProvider = Tamp.VersionProvider.class,
        description = "Compress, convert, pack and verify transformer checkpoints for the edge.",
        subcommands = {InspectCommand.class, ConvertCommand.class, RunCommand.class, CalibrateCommand.class, EvalCommand.class,
                QuantizeCommand.class, CompotCommand.class, PruneCommand.class, MxCommand.class, MxSliceCommand.class,
                PackCommand.class, VerifyCommand.class, DistillCommand.class, ExportCommand.class, RecipeCommand.class,
                CommandLine.HelpCommand.class, picocli.AutoComplete.GenerateCompletion.class},
        footer = {"", "Exit codes: 0 ok, 1 verification threshold not met, 2 bad usage or input, "
                + "3 unsupported model or op, 4 internal error. Running out of memory is exit 2 with the setting to change.",
                "", "Examples:", "  tamp inspect minilm", "  tamp inspect model.safetensors --json",
                "  tamp convert stories260k -o stories.tpk"})
public final class Tamp implements Runnable {

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Show stack traces and extra diagnostics on stderr.")
    public void setVerbose(boolean v) { verbose = v; }

    static volatile boolean verbose;

    @Option(names = "--max-memory", scope = ScopeType.INHERIT, paramLabel = "SIZE",
            description = "The Java heap for this run, e.g. 8g or 12000m (read by the tamp launcher, which starts the JVM with it; "
                    + "default: 75%% of the machine's memory).")
    public void setMaxMemory(String size) {
        if (!size.matches("(?i)[0-9]+[kmgt]?")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--max-memory must be a size like 8g or 12000m, not " + size);
        }
    }

    /** Activations for weight-only integer packs as the launching JVM had them (-Dtamp.activations), restored per run. */
    private static final String LAUNCH_ACTIVATIONS = System.getProperty("tamp.activations");

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs tamp with the given arguments and returns the exit code (tests call this). */
    public static int execute(String... args) {
        // DJL must never download anything; set before any engine class loads.
        System.setProperty("ai.djl.offline", "true");
        verbose = false;
        if (LAUNCH_ACTIVATIONS == null) System.clearProperty("tamp.activations");
        else System.setProperty("tamp.activations", LAUNCH_ACTIVATIONS);
        CommandLine cl = commandLine();
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            // picocli hands Errors through; by now the failed command's objects are unreachable, so printing is safe
            PrintWriter err = cl.getErr();
            err.println("tamp: " + outOfMemory(args));
            if (verbose) e.printStackTrace(err);
            err.flush();
            return ExitCode.BAD_INPUT.code();
        }
    }

    /** The one line for a run that outgrew the heap: how big the heap was and the setting that gives it more. */
    static String outOfMemory(String[] args) {
        long heap = Runtime.getRuntime().maxMemory();
        long suggest = Math.max(2, (long) Math.ceil(2.0 * heap / (1L << 30)));
        String command = args.length > 0 && !args[0].startsWith("-") ? args[0] + " " : "";
        return String.format(java.util.Locale.ROOT, "out of memory: %sneeds more than the %.1f GB Java heap; give it more with "
                + "--max-memory %dg (or TAMP_JAVA_OPTS=-Xmx%dg), or calibrate on fewer or shorter samples (--samples, --seq-len)",
                command, heap / (double) (1L << 30), suggest, suggest);
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Tamp(), new CommandFactory());
        cl.setExecutionExceptionHandler(Tamp::handleExecutionException);
        cl.setParameterExceptionHandler(Tamp::handleParameterException);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    private static int handleExecutionException(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        Throwable t = e;
        if (t instanceof TampException te) {
            err.println("tamp: " + oneLine(te.getMessage()));
            if (verbose) e.printStackTrace(err);
            err.flush();
            return te.exitCode().code();
        }
        err.println("tamp: internal error: " + oneLine(t.toString())
                + (verbose ? "" : " (run with --verbose for the stack trace)"));
        if (verbose) e.printStackTrace(err);
        err.flush();
        return ExitCode.INTERNAL.code();
    }

    private static int handleParameterException(CommandLine.ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println("tamp: " + oneLine(ex.getMessage()));
        err.println("Try '" + cl.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return ExitCode.BAD_INPUT.code();
    }

    private static String oneLine(String s) {
        if (s == null) return "(no message)";
        return s.replace('\n', ' ').replace('\r', ' ');
    }

    /** picocli's own factory, except that the recipe command is handed {@link #commandLine} to run its steps on. */
    private static final class CommandFactory implements CommandLine.IFactory {
        private final CommandLine.IFactory picocli = CommandLine.defaultFactory();

        @Override
        public <K> K create(Class<K> cls) throws Exception {
            return cls == RecipeCommand.class ? cls.cast(new RecipeCommand(Tamp::commandLine)) : picocli.create(cls);
        }
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override public String[] getVersion() {
            return new String[] {Version.PRODUCER, "Java " + System.getProperty("java.version")};
        }
    }
}
