using SecondBrain.Core.Knowledge.Extraction;

namespace SecondBrain.Tests.Unit.Knowledge;

public sealed class ClaimExtractionTests
{
    private static Claim Claim(string sentence, string predicateKey)
    {
        var claims = SentenceAnalyzer.Analyze(sentence).Claims;
        var claim = claims.FirstOrDefault(c => c.PredicateKey == predicateKey);
        Assert.True(claim is not null, $"no '{predicateKey}' claim in '{sentence}': [{string.Join("; ", claims.Select(c => $"{c.SubjectKey}|{c.PredicateKey}|{c.NormalizedValue}"))}]");
        return claim;
    }

    [Fact]
    public void Percent_claim_with_subject_key_and_head()
    {
        var claim = Claim("The SLA for enterprise customers is 99.9%.", "be");
        Assert.Equal("SLA for enterprise customers", claim.Subject);
        Assert.Equal("sla for enterprise customer", claim.SubjectKey);
        Assert.Equal("sla", claim.SubjectHead);
        Assert.Equal("is", claim.Predicate);
        Assert.Equal("99.9%", claim.Value);
        Assert.Equal("99.9%", claim.NormalizedValue);
        Assert.Equal(ClaimValueKind.Percent, claim.ValueKind);
        Assert.True(claim.Polarity);
    }

    [Fact]
    public void Two_phrasings_of_a_percentage_meet_on_the_same_key()
    {
        var first = Claim("Our SLA is 99.9%.", "be");
        var second = Claim("The SLA is now 99.5 percent.", "be");
        Assert.Equal(first.Key, second.Key);
        Assert.Equal("99.5%", second.NormalizedValue);
        Assert.NotEqual(first.NormalizedValue, second.NormalizedValue);
    }

    [Fact]
    public void Date_claims_from_schedules_and_date_subjects_meet()
    {
        var scheduled = Claim("The launch is scheduled for March 3, 2025.", "date");
        Assert.Equal("launch", scheduled.SubjectKey);
        Assert.Equal("2025-03-03", scheduled.NormalizedValue);
        Assert.Equal(ClaimValueKind.Date, scheduled.ValueKind);

        var dated = Claim("The launch date is 2025-03-10.", "date");
        Assert.Equal(scheduled.Key, dated.Key);
        Assert.Equal("2025-03-10", dated.NormalizedValue);

        Assert.Equal("--03-14", Claim("The cutover is planned for 3/14.", "date").NormalizedValue);
        Assert.Equal("2025-Q3", Claim("The migration is slated for Q3 2025.", "date").NormalizedValue);
    }

    [Fact]
    public void Negated_support_claims_have_the_key_of_the_positive_one()
    {
        var no = Claim("We do not support SSO.", "support");
        Assert.Equal("we", no.SubjectKey);
        Assert.Equal("support", no.Predicate);
        Assert.Equal("sso", no.NormalizedValue);
        Assert.False(no.Polarity);

        var yes = Claim("We support SSO for all enterprise plans.", "support");
        Assert.Equal(no.Key, yes.Key);
        Assert.Equal("sso", yes.NormalizedValue);
        Assert.True(yes.Polarity);

        Assert.False(Claim("We don't support SAML anymore.", "support").Polarity);
        Assert.False(Claim("We no longer use Jenkins.", "use").Polarity);
    }

    [Theory]
    [InlineData("The enterprise plan costs $1,200 per month.", "cost", "USD 1200", ClaimValueKind.Money)]
    [InlineData("The Pro plan costs 5k EUR.", "cost", "EUR 5000", ClaimValueKind.Money)]
    [InlineData("A full backup takes 2 weeks.", "take", "P14D", ClaimValueKind.Duration)]
    [InlineData("The p95 latency is 200ms.", "be", "PT0.2S", ClaimValueKind.Duration)]
    [InlineData("The platform team has 12 engineers.", "have", "12 engineer", ClaimValueKind.Number)]
    [InlineData("Revenue increased by 12% in Q3.", "increased by", "12%", ClaimValueKind.Percent)]
    [InlineData("Churn is 1,500 customers.", "be", "1500 customer", ClaimValueKind.Number)]
    public void Numbers_money_and_durations_are_normalised(string sentence, string predicateKey, string normalized, ClaimValueKind kind)
    {
        var claim = Claim(sentence, predicateKey);
        Assert.Equal(normalized, claim.NormalizedValue);
        Assert.Equal(kind, claim.ValueKind);
    }

    [Fact]
    public void Ownership_frames_make_owner_claims()
    {
        var claim = Claim("Project Falcon is owned by the platform team.", "owner");
        Assert.Equal("project falcon", claim.SubjectKey);
        Assert.Equal("platform team", claim.NormalizedValue);
        Assert.False(Claim("Maria no longer owns the billing pipeline.", "owner").Polarity);
    }

    [Theory]
    [InlineData("If you need anything, call me.")]
    [InlineData("The reason is the licence cost.")]
    [InlineData("There is a problem with the build.")]
    [InlineData("Is the SLA 99.9%?")]
    [InlineData("We decided to use Postgres.")]
    [InlineData("The quarterly meeting will take place on June 12.")]
    public void No_claims_from_conditions_explanations_questions_or_idioms(string sentence)
    {
        Assert.DoesNotContain(SentenceAnalyzer.Analyze(sentence).Claims, c => c.PredicateKey is "be" or "need" or "use" or "take" or "call");
    }

    [Theory]
    [InlineData("Our SLAs for Enterprise customers", "sla for enterprise customer")]
    [InlineData("the Jenkins servers", "jenkins server")]
    [InlineData("its  Policies", "policies")]
    public void Phrase_keys_drop_articles_and_plurals_of_common_nouns(string text, string key)
    {
        Assert.Equal(key, KnowledgeKeys.Phrase(text));
    }

    [Fact]
    public void Claim_ranges_cover_subject_and_value()
    {
        const string sentence = "As of today, the SLA for enterprise customers is 99.9%.";
        var claim = Claim(sentence, "be");
        Assert.Equal("SLA for enterprise customers is 99.9%", sentence[claim.Range.Start..claim.Range.End]);
    }
}
