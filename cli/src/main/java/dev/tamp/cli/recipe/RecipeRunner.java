package dev.tamp.cli.recipe;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.cli.support.Provenance;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.StderrProgress;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.io.AtomicFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import picocli.CommandLine;

/**
 * Runs a recipe's steps in this process, each as the tamp subcommand it names, feeding each step the
 * previous artifact. Completed steps are recorded in the work directory and skipped on the next run while
 * their arguments and input are unchanged, so a recipe resumes from its last completed step.
 */
public final class RecipeRunner {
    private final Recipe recipe;
    private final Path workdir;
    private final Supplier<CommandLine> tamp;
    private final PrintWriter stepOut;
    private final StderrProgress progress;

    /**
     * @param tamp     makes a fresh tamp command line (exception handlers installed)
     * @param stepOut  where the steps' own results go (stdout, or stderr when the recipe reports JSON)
     */
    public RecipeRunner(Recipe recipe, Path workdir, Supplier<CommandLine> tamp, PrintWriter stepOut, StderrProgress progress) {
        this.recipe = recipe;
        this.workdir = workdir;
        this.tamp = tamp;
        this.stepOut = stepOut;
        this.progress = progress;
    }

    /** The outcome: the exit code of the first failing step (0 when all passed) and a report per step. */
    public record Result(int exitCode, String artifact, ObjectNode report) {}

    public Result run(boolean restart, Path output) {
        try {
            Files.createDirectories(workdir);
        } catch (IOException e) {
            throw BadInputException.inFile(workdir, "cannot create the work directory: " + e.getMessage(), e);
        }
        RecipeState state = RecipeState.load(workdir);
        if (restart) state.clear();
        ObjectNode report = Json.object();
        report.put("recipe", recipe.name());
        report.put("workdir", workdir.toString());
        ArrayNode steps = report.putArray("steps");
        String input = recipe.model();
        int n = recipe.steps().size();
        for (RecipeStep step : recipe.steps()) {
            Path out = step.kind().producesArtifact()
                    ? workdir.resolve(String.format(Locale.ROOT, "%02d-%s%s", step.index(), step.command(), step.kind().extension(step.options())))
                    : null;
            List<String> args = step.arguments(input, out);
            String inputSha = Provenance.sha256(ModelLoader.resolve(input));
            ObjectNode r = steps.addObject();
            r.put("index", step.index());
            r.put("command", step.command());
            ArrayNode a = r.putArray("arguments");
            args.forEach(a::add);
            if (out != null) r.put("output", out.toString());
            String label = "recipe " + recipe.name() + ": step " + step.index() + "/" + n + " " + step.command();
            if (unchanged(state.get(step.index()), args, inputSha, out)) {
                progress.info(label + ": unchanged since the last run, skipped");
                r.put("status", "skipped");
            } else {
                progress.info(label + ": tamp " + String.join(" ", args));
                long t0 = System.nanoTime();
                CommandLine cl = tamp.get();
                cl.setOut(stepOut);
                int code = Provenance.inRecipe(recipe.name(), step.index(), () -> cl.execute(args.toArray(String[]::new)));
                stepOut.flush();
                r.put("seconds", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
                r.put("exit", code);
                if (code != 0) {
                    r.put("status", "failed");
                    progress.info(label + ": failed with exit code " + code);
                    return new Result(code, null, report);
                }
                r.put("status", "ran");
                state.complete(new RecipeState.Done(step.index(), args, inputSha,
                        out == null ? null : out.toString(), out == null ? null : Provenance.sha256(out)));
            }
            if (out != null) input = out.toString();
        }
        String artifact = input;
        if (output != null && !artifact.equals(recipe.model())) {
            copy(Path.of(artifact), output);
            artifact = output.toString();
        }
        report.put("artifact", artifact);
        return new Result(0, artifact, report);
    }

    private static boolean unchanged(RecipeState.Done done, List<String> args, String inputSha, Path out) {
        if (done == null || !done.arguments().equals(args) || !done.inputSha256().equals(inputSha)) return false;
        if (out == null) return true;
        return Files.exists(out) && Provenance.sha256(out).equals(done.outputSha256());
    }

    /** Copies the final artifact (a file) to the requested output, atomically. */
    private static void copy(Path from, Path to) {
        if (!Files.isRegularFile(from)) {
            throw BadInputException.inFile(to, "the last step's output " + from + " is not a single file; take it from the work directory");
        }
        AtomicFiles.write(to, tmp -> Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING));
    }
}
