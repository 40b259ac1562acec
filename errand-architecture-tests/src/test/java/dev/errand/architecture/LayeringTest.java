package dev.errand.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The layering rules of DESIGN.md, checked on the compiled main classes of every module. */
class LayeringTest {

  static JavaClasses errand;

  @BeforeAll
  static void importClasses() {
    errand =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.errand");
  }

  static final String[] CORE = {
    "dev.errand",
    "dev.errand.spi",
    "dev.errand.wire",
    "dev.errand.internal",
    "dev.errand.memory",
    "dev.errand.workflow"
  };

  @Test
  void coreDependsOnlyOnTheJdkSlf4jAndJackson() {
    classes()
        .that()
        .resideInAnyPackage(CORE)
        .should()
        .onlyDependOnClassesThat()
        .resideInAnyPackage(
            "java..",
            "org.slf4j..",
            "com.fasterxml.jackson..",
            "dev.errand",
            "dev.errand.spi",
            "dev.errand.wire",
            "dev.errand.internal",
            "dev.errand.memory",
            "dev.errand.workflow")
        .check(errand);
  }

  @Test
  void noModuleReachesIntoAnotherModulesInternals() {
    noClasses()
        .that()
        .resideOutsideOfPackages(CORE)
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.errand.internal..")
        .check(errand);
    for (String module :
        new String[] {
          "dev.errand.worker",
          "dev.errand.scheduler",
          "dev.errand.sqlite",
          "dev.errand.redis",
          "dev.errand.dashboard",
          "dev.errand.cli"
        }) {
      noClasses()
          .that()
          .resideOutsideOfPackage(module + "..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage(module + ".internal..")
          .check(errand);
    }
  }

  @Test
  void theSchedulerNeedsNoWorkerAndNoBackend() {
    noClasses()
        .that()
        .resideInAPackage("dev.errand.scheduler..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.errand.worker..", "dev.errand.sqlite..", "dev.errand.redis..")
        .check(errand);
  }

  @Test
  void onlyWorkerMetricsNeedsTheWorkerSoADashboardOrProducerCanLeaveItOut() {
    // errand-metrics declares errand-worker optional; the dashboard does not carry it at all.
    noClasses()
        .that()
        .resideInAnyPackage("dev.errand.metrics..", "dev.errand.dashboard..")
        .and()
        .doNotHaveFullyQualifiedName("dev.errand.metrics.WorkerMetrics")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.errand.worker..")
        .check(errand);
  }

  @Test
  void publicApiAndSpiNeverDependOnTheWorker() {
    noClasses()
        .that()
        .resideInAnyPackage(CORE)
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.errand.worker..")
        .check(errand);
  }

  @Test
  void theTestModuleUsesOnlyPublicApi() {
    noClasses()
        .that()
        .resideInAPackage("dev.errand.test..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.errand.internal..", "dev.errand.worker.internal..")
        .check(errand);
  }

  @Test
  void noJavaSerializationAnywhere() {
    noClasses()
        .should()
        .dependOnClassesThat()
        .haveFullyQualifiedName("java.io.ObjectInputStream")
        .orShould()
        .dependOnClassesThat()
        .haveFullyQualifiedName("java.io.ObjectOutputStream")
        .check(errand);
  }

  @Test
  void noClassIsLoadedByNameExceptTheJdkBridgesAndTheCliAppFlag() {
    // Threads reaches Thread.ofVirtual() on JDK 21+ and GracefulStop sun.misc.Signal, both fixed
    // JDK names; AppLoader loads the class an operator names with --app. Nothing ever loads a
    // class named by a message.
    noClasses()
        .that()
        .doNotHaveFullyQualifiedName("dev.errand.worker.internal.Threads")
        .and()
        .doNotHaveFullyQualifiedName("dev.errand.cli.internal.GracefulStop")
        .and()
        .doNotHaveFullyQualifiedName("dev.errand.cli.internal.AppLoader")
        .should()
        .callMethod(Class.class, "forName", String.class)
        .orShould()
        .callMethod(Class.class, "forName", String.class, boolean.class, ClassLoader.class)
        .orShould()
        .callMethod(ClassLoader.class, "loadClass", String.class)
        .check(errand);
  }

  @Test
  void engineClassesStayOutOfThePublicWorkerPackage() {
    classes()
        .that()
        .resideInAPackage("dev.errand.worker")
        .and()
        .haveSimpleNameEndingWith("Engine")
        .should()
        .resideInAPackage("dev.errand.worker.internal")
        .allowEmptyShould(true)
        .check(errand);
  }
}
