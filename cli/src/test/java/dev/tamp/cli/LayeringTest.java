package dev.tamp.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import org.junit.jupiter.api.Test;

/**
 * The shape of the tree, checked on the compiled main classes of every module: dependencies point one way
 * (cli → methods → runtime → native / formats → core), third-party engines stay behind the classes that wrap them, and
 * the packages of each module form no cycles. Maven already refuses module cycles; this catches what it cannot: a
 * class put in another module's package, an engine import leaking out of its wrapper, a package circle.
 */
class LayeringTest {
    /** Main classes only: the modules' target/classes or jars, not test classes or test jars (formats' tests.jar). */
    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(location -> !location.contains("-tests.jar") && !location.contains("/test-classes/"))
            .importPackages("dev.tamp");

    @Test
    void everyModuleIsImported() {
        // the rules below would pass on an empty import: make sure each module's classes are in it
        for (String c : new String[] {"dev.tamp.core.ir.Model", "dev.tamp.formats.ModelLoader", "dev.tamp.nativekernels.NativeKernels",
                "dev.tamp.runtime.kernels.LinearKernels", "dev.tamp.quantizers.awq.AwqQuantizer", "dev.tamp.pruning.Pruner",
                "dev.tamp.compot.Compot", "dev.tamp.distill.Distiller", "dev.tamp.cli.Tamp"}) {
            org.junit.jupiter.api.Assertions.assertTrue(MAIN.contain(c), c + " not imported");
        }
        org.junit.jupiter.api.Assertions.assertFalse(MAIN.contain("dev.tamp.cli.LayeringTest"), "test classes imported");
    }

    @Test
    void modulesDependOneWay() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("core").definedBy("dev.tamp.core..")
                .layer("formats").definedBy("dev.tamp.formats..")
                .layer("native").definedBy("dev.tamp.nativekernels..")
                .layer("runtime").definedBy("dev.tamp.runtime..")
                .layer("methods").definedBy("dev.tamp.quantizers..", "dev.tamp.pruning..", "dev.tamp.compot..", "dev.tamp.distill..")
                .layer("cli").definedBy("dev.tamp.cli..")
                .whereLayer("cli").mayNotBeAccessedByAnyLayer()
                .whereLayer("methods").mayOnlyBeAccessedByLayers("cli")
                .whereLayer("runtime").mayOnlyBeAccessedByLayers("methods", "cli")
                .whereLayer("native").mayOnlyBeAccessedByLayers("runtime")
                .whereLayer("formats").mayOnlyBeAccessedByLayers("runtime", "methods", "cli")
                .check(MAIN);
    }

    @Test
    void enginesStayBehindTheirWrappers() {
        // the CLI framework is the cli module's; DJL's PyTorch engine is the torch backend's and the distiller's
        noClasses().that().resideOutsideOfPackage("dev.tamp.cli..").should().dependOnClassesThat().resideInAPackage("picocli..")
                .check(MAIN);
        noClasses().that().resideOutsideOfPackages("dev.tamp.runtime.torch..", "dev.tamp.distill..")
                .should().dependOnClassesThat().resideInAPackage("ai.djl..")
                .check(MAIN);
        // ONNX Runtime is the tests' oracle, never a dependency of what ships
        noClasses().should().dependOnClassesThat().resideInAPackage("ai.onnxruntime..").check(MAIN);
    }

    @Test
    void noPackageCycles() {
        slices().matching("dev.tamp.(*)..").should().beFreeOfCycles().check(MAIN); // modules (Maven's rule, kept here too)
        for (String module : new String[] {"core", "formats", "nativekernels", "runtime", "quantizers", "pruning", "compot", "distill", "cli"}) {
            slices().assignedFrom(packagesOf("dev.tamp." + module)).should().beFreeOfCycles().check(MAIN);
        }
    }

    /** One slice per package (the module's root package included) under {@code prefix}. */
    private static SliceAssignment packagesOf(String prefix) {
        return new SliceAssignment() {
            @Override
            public SliceIdentifier getIdentifierOf(JavaClass c) {
                String p = c.getPackageName();
                return p.equals(prefix) || p.startsWith(prefix + ".") ? SliceIdentifier.of(p) : SliceIdentifier.ignore();
            }

            @Override
            public String getDescription() {
                return "packages of " + prefix;
            }
        };
    }
}
