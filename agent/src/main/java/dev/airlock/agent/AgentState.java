package dev.airlock.agent;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.airlock.peer.DtlsIdentity;
import dev.airlock.peer.PrivateFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.Optional;
import java.util.UUID;

/**
 * What the agent keeps between runs in its state directory (mode 0700, files 0600): its identity
 * key ({@value #IDENTITY_FILE}, an EC P-256 private JWK), its id once enrolled ({@value
 * #AGENT_ID_FILE}) and its DTLS certificate. The key and certificate are created on first use.
 */
public final class AgentState {

  /** The identity key's file. */
  public static final String IDENTITY_FILE = "identity.jwk";

  /** The agent id's file, written when the platform welcomes the enrolment. */
  public static final String AGENT_ID_FILE = "agent-id";

  private final Path directory;
  private final ECKey identity;
  private final DtlsIdentity dtls;
  private volatile UUID agentId;

  private AgentState(Path directory, ECKey identity, DtlsIdentity dtls, UUID agentId) {
    this.directory = directory;
    this.identity = identity;
    this.dtls = dtls;
    this.agentId = agentId;
  }

  /**
   * Opens the state in {@code directory}, creating the directory, key and certificate if missing.
   *
   * @throws UncheckedIOException when the directory cannot be read or written
   * @throws IllegalStateException when a file is there but unreadable
   */
  public static AgentState open(Path directory) {
    try {
      PrivateFiles.createDirectory(directory);
      Path keyFile = directory.resolve(IDENTITY_FILE);
      ECKey identity;
      if (Files.exists(keyFile)) {
        identity = ECKey.parse(Files.readString(keyFile));
        if (!identity.isPrivate() || !Curve.P_256.equals(identity.getCurve())) {
          throw new IllegalStateException(
              keyFile + ": not an EC P-256 private key (expected: the agent's identity JWK)");
        }
      } else {
        identity = new ECKeyGenerator(Curve.P_256).keyID(UUID.randomUUID().toString()).generate();
        PrivateFiles.write(keyFile, identity.toJSONString());
      }
      Path idFile = directory.resolve(AGENT_ID_FILE);
      UUID agentId = null;
      if (Files.exists(idFile)) {
        String text = Files.readString(idFile).strip();
        try {
          agentId = UUID.fromString(text);
        } catch (IllegalArgumentException e) {
          throw new IllegalStateException(idFile + ": " + text + " (expected: a UUID)");
        }
      }
      return new AgentState(directory, identity, DtlsIdentity.loadOrCreate(directory), agentId);
    } catch (IOException e) {
      throw new UncheckedIOException("state directory " + directory + ": " + e.getMessage(), e);
    } catch (ParseException | JOSEException e) {
      throw new IllegalStateException(
          directory.resolve(IDENTITY_FILE) + ": unreadable key: " + e.getMessage(), e);
    }
  }

  /** The directory. */
  public Path directory() {
    return directory;
  }

  /** The identity key pair (private: never log or send it; send {@link #publicKeyJson()}). */
  public ECKey identity() {
    return identity;
  }

  /** The public half of the identity key as JWK JSON text, as enrolment sends it. */
  public String publicKeyJson() {
    return identity.toPublicJWK().toJSONString();
  }

  /** The persistent DTLS certificate. */
  public DtlsIdentity dtls() {
    return dtls;
  }

  /** The agent's id, once enrolled. */
  public Optional<UUID> agentId() {
    return Optional.ofNullable(agentId);
  }

  /** Records the id the platform gave at enrolment. */
  public void saveAgentId(UUID id) {
    try {
      PrivateFiles.write(directory.resolve(AGENT_ID_FILE), id + "\n");
      agentId = id;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save the agent id: " + e.getMessage(), e);
    }
  }
}
