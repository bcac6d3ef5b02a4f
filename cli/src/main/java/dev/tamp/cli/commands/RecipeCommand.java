package dev.tamp.cli.commands;

import dev.tamp.cli.recipe.Recipe;
import dev.tamp.cli.recipe.RecipeRunner;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.StderrProgress;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "recipe", mixinStandardHelpOptions = true,
        description = {"Run a pipeline described in a YAML file: a starting model and steps, each a tamp command with its "
                + "options (convert, quantize, compot, prune, mx, mx-slice, distill, pack, export, verify, eval, inspect).",
                "Each step reads the previous step's output; artifacts go to the work directory as NN-command.tpk. Completed "
                + "steps are recorded there, so running the recipe again resumes after the last completed step (and redoes a "
                + "step whose options or input changed). Every step the recipe runs is recorded in the pack's provenance as "
                + "recipe-name#step. A failing step stops the recipe with that step's exit code (a verify threshold: 1).",
                "",
                "Recipe file:",
                "  name: minilm-edge            # optional; default: the file name",
                "  model: minilm                # path or bundled name",
                "  workdir: build/minilm-edge   # optional; default: ./<name>.work",
                "  steps:",
                "    - quantize: {method: awq, bits: 4, group: 128}",
                "    - verify: {reference: minilm, min-cosine: 0.95}",
                "  output: minilm-edge.tpk      # optional copy of the last artifact",
                "Option values: 'key: v' gives --key v, 'key: true' gives --key, a list gives --key a,b. Quote values such as \"2:4\"."},
        footer = {"", "Examples:", "  tamp recipe recipes/minilm-awq-edge.yaml",
                "  tamp recipe recipes/minilm-awq-edge.yaml --restart --json",
                "  tamp recipe my.yaml --workdir /tmp/my-steps -o final.tpk"})
public final class RecipeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RECIPE.yaml") Path file;

    @Option(names = "--workdir", paramLabel = "DIR", description = "Where step artifacts and the resume record go (overrides the recipe's).")
    Path workdir;

    @Option(names = {"-o", "--output"}, paramLabel = "OUT", description = "Copy the last artifact here (overrides the recipe's 'output').")
    Path output;

    @Option(names = "--restart", description = "Run every step again, ignoring what earlier runs completed.")
    boolean restart;

    @Option(names = "--json", description = "Print a JSON report of the steps on stdout; the steps' own results go to stderr.")
    boolean json;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    /** Makes a fresh {@code tamp} command line, the root's, to run each step on (handed down: commands do not reach up to it). */
    private final Supplier<CommandLine> tamp;

    public RecipeCommand(Supplier<CommandLine> tamp) {
        this.tamp = tamp;
    }

    @Override
    public Integer call() {
        Recipe recipe = Recipe.read(file);
        Path dir = workdir != null ? workdir : Path.of(recipe.workdir() != null ? recipe.workdir() : recipe.name() + ".work");
        Path out = output != null ? output : recipe.output() == null ? null : Path.of(recipe.output());
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stepOut = json ? new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true) : stdout;
        PrintWriter err = spec.commandLine().getErr();
        Supplier<CommandLine> step = () -> {
            CommandLine cl = tamp.get();
            cl.setErr(err);
            return cl;
        };
        RecipeRunner.Result r = new RecipeRunner(recipe, dir, step, stepOut, StderrProgress.forStderr()).run(restart, out);
        if (json) {
            r.report().put("passed", r.exitCode() == 0);
            stdout.println(Json.pretty(r.report()));
        } else if (r.exitCode() == 0) {
            stdout.println("recipe " + recipe.name() + ": " + recipe.steps().size() + " steps done → " + r.artifact());
        }
        stdout.flush();
        return r.exitCode();
    }
}
