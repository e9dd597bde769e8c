using SecondBrain.Core.Search.Answers;

namespace SecondBrain.Tests.Unit.Answers;

public sealed class SentenceFilterTests
{
    [Theory]
    [InlineData("From: Ana Lima <ana@example.test>")]
    [InlineData("Subject: Re: new pricing")]
    [InlineData("Date: Tue, 3 Mar 2026 09:12:00 +0000")]
    [InlineData("> We should raise the price.")]
    [InlineData("On Tue, 3 Mar 2026 at 09:12, Ana Lima <ana@example.test> wrote:")]
    [InlineData("Best regards,")]
    [InlineData("Thanks,")]
    [InlineData("Home | Pricing | About us | Contact")]
    [InlineData("Skip to content")]
    [InlineData("© 2026 Contoso Ltd. All rights reserved.")]
    [InlineData("+44 20 7946 0958")]
    [InlineData("ana.lima@example.test")]
    public void Headers_quotes_signatures_and_navigation_are_noise(string line) => Assert.True(SentenceFilter.IsNoiseLine(line), line);

    [Theory]
    [InlineData("The starter plan now costs 12 euros per seat from April.")]
    [InlineData("Thanks to the new cache, search latency fell by half.")]
    [InlineData("Home office equipment is reimbursed up to 300 euros.")]
    public void Sentences_with_content_are_kept(string line) => Assert.False(SentenceFilter.IsNoiseLine(line), line);

    [Fact]
    public void Everything_after_a_signature_delimiter_or_an_original_message_is_dropped()
    {
        var lines = SentenceFilter.ContentLines("We decided on 12 euros per seat.\n--\nAna Lima\nHead of Sales\n").ToList();
        Assert.Equal(["We decided on 12 euros per seat."], lines);
        lines = SentenceFilter.ContentLines("Agreed, go ahead.\n-----Original Message-----\nFrom: Tom\nThe old price was 10.").ToList();
        Assert.Equal(["Agreed, go ahead."], lines);
    }
}
