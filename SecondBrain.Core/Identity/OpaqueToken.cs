using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace SecondBrain.Core.Identity;

/// <summary>
/// A secret handed to a person once (refresh token, password-reset or sign-up link, API key): 32 random bytes,
/// base64url, stored only as its SHA-256, so a database leak gives no usable token. One place, so every kind is made
/// and looked up the same way.
/// </summary>
public static class OpaqueToken
{
    public static string New() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
