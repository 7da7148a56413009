package io.tourniquet.arch;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Package boundaries are the architecture: every package of the main code may depend on others
 * only without a cycle (rules on shared primitives, the job's wiring on the rules, never back).
 * Module boundaries are the compiler's; this checks the packages inside and across them.
 */
class PackageCyclesTest {
    /**
     * The project's main code wherever the build put it: class folders when Maven runs the tests
     * before packaging the modules below, their jars once it has ("mvn verify"). Test classes and
     * test-jars, and every library's jar, stay out.
     */
    private static final Pattern MODULE_JAR = Pattern.compile(".*/tourniquet-[a-z-]+-[^/]*\\.jar(!/.*)?");
    private static final ImportOption PROJECT_MAIN_CODE = location -> {
        if (location.contains("-tests.jar") || location.contains("/test-classes/")) return false;
        return !location.isJar() || location.matches(MODULE_JAR);
    };

    @Test
    void noPackageDependsOnItselfThroughOthers() {
        JavaClasses main = new ClassFileImporter()
                .withImportOption(PROJECT_MAIN_CODE)
                .importPackages("io.tourniquet");
        // Every module's code is in the check, not only this module's own classes.
        Set<String> packages = main.stream().map(JavaClass::getPackageName).collect(Collectors.toSet());
        assertThat(packages).contains("io.tourniquet.model", "io.tourniquet.kafka", "io.tourniquet.detect",
                "io.tourniquet.index", "io.tourniquet.forensics", "io.tourniquet.sim", "io.tourniquet.cli",
                "io.tourniquet.models");
        slices().matching("io.tourniquet.(**)").should().beFreeOfCycles().check(main);
    }
}
