package io.tourniquet.arch;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * Package boundaries are the architecture: every package of the main code may depend on others
 * only without a cycle (rules on shared primitives, the job's wiring on the rules, never back).
 */
class PackageCyclesTest {

    @Test
    void noPackageDependsOnItselfThroughOthers() {
        JavaClasses main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
                .importPackages("io.tourniquet");
        slices().matching("io.tourniquet.(**)").should().beFreeOfCycles().check(main);
    }
}
