using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace SecondBrain.Core.Security;

public sealed class KeyRingEncryptionOptions
{
    public const string SectionName = "DataProtection";

    /// <summary>
    /// The secret the Data Protection key ring is encrypted with (the AppHost's <c>dataprotection-key</c> parameter;
    /// Key Vault or a certificate in a cloud deployment). It is never stored in the database that holds the ring, so
    /// a copy of the database alone decrypts no provider token.
    /// </summary>
    [Required(ErrorMessage = "DataProtection:KeyEncryptionKey is required: the key ring is encrypted at rest.")]
    [MinLength(32, ErrorMessage = "DataProtection:KeyEncryptionKey must be at least 32 characters.")]
    public string KeyEncryptionKey { get; set; } = "";

    /// <summary>The AES-256 key: SHA-256 of the secret, so any long random string will do.</summary>
    internal byte[] Key() => SHA256.HashData(Encoding.UTF8.GetBytes(KeyEncryptionKey));

    /// <summary>Which secret encrypted a key: lets the secret be rotated while old keys stay readable with the old one.</summary>
    internal string KeyId() => Convert.ToHexStringLower(SHA256.HashData(Key()))[..16];
}

/// <summary>
/// Encrypts each Data Protection key with AES-256-GCM before it is written to Postgres. The ring stays in the
/// database, shared by all instances, but its keys are useless without the secret the deployment holds.
/// </summary>
public sealed class AesGcmXmlEncryptor(KeyRingEncryptionOptions options) : IXmlEncryptor
{
    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        using (var aes = new AesGcm(options.Key(), tag.Length))
        {
            aes.Encrypt(nonce, plaintext, ciphertext, tag);
        }

        var element = new XElement("encryptedKey",
            new XAttribute("keyId", options.KeyId()),
            new XElement("nonce", Convert.ToBase64String(nonce)),
            new XElement("tag", Convert.ToBase64String(tag)),
            new XElement("value", Convert.ToBase64String(ciphertext)));
        return new EncryptedXmlInfo(element, typeof(AesGcmXmlDecryptor));
    }
}

/// <summary>Decrypts what <see cref="AesGcmXmlEncryptor"/> wrote; built by Data Protection with the service provider.</summary>
public sealed class AesGcmXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var options = services.GetRequiredService<IOptions<KeyRingEncryptionOptions>>().Value;
        if (encryptedElement.Attribute("keyId")?.Value is { } keyId && keyId != options.KeyId())
        {
            throw new CryptographicException(
                $"A Data Protection key was encrypted with another DataProtection:KeyEncryptionKey (id {keyId}); this instance has {options.KeyId()}.");
        }

        var nonce = Convert.FromBase64String(encryptedElement.Element("nonce")!.Value);
        var tag = Convert.FromBase64String(encryptedElement.Element("tag")!.Value);
        var ciphertext = Convert.FromBase64String(encryptedElement.Element("value")!.Value);
        var plaintext = new byte[ciphertext.Length];
        using (var aes = new AesGcm(options.Key(), tag.Length))
        {
            aes.Decrypt(nonce, ciphertext, tag, plaintext);
        }

        return XElement.Parse(Encoding.UTF8.GetString(plaintext));
    }
}
