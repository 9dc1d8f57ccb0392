package dev.airlock.contract.harness;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a class of black-box tests against the running platform. Its test methods (and {@code
 * BeforeAll} methods) may take a {@link ContractPlatform} parameter; the class fails after its
 * tests if any response that passed through the proxy during them broke the API contract.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(ContractPlatformExtension.class)
public @interface ContractTest {}
