using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using MimeKit;
using SecondBrain.Core.Data;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Knowledge.Extraction;
using SecondBrain.Core.Knowledge.Graph;

namespace SecondBrain.Core.Knowledge;

/// <summary>
/// Extracts one queued document version and stores what it says: entity mentions resolved against the tenant's
/// aliases, frames, claims, definitions and relation evidence, all in one transaction with the state row locked, so
/// a document removed or re-ingested meanwhile never keeps knowledge of an old version.
/// </summary>
public sealed partial class KnowledgeWriter(
    SecondBrainDbContext db,
    EntityResolver resolver,
    ISentenceAnalysisCache sentenceCache,
    TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<string> ExtractAsync(Guid documentId, int version, Guid leaseToken, CancellationToken ct)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(async token =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(token);
            await LockStateAsync(documentId, token);
            var state = await db.DocumentKnowledge.FirstOrDefaultAsync(k => k.DocumentId == documentId, token);
            // Fenced: only the claim that still holds the row writes; a worker whose lease was taken over writes nothing.
            if (state is null || state.DocumentVersion != version || state.Status != DocumentKnowledgeStatuses.Running || state.LeaseToken != leaseToken)
            {
                return "superseded";
            }

            // Not the bytes nor the texts: a synced message carries its raw body (megabytes) in the row, and extraction
            // works from the pending text alone.
            var document = await db.Documents.AsNoTracking().Where(d => d.Id == documentId).Select(d => new Document
            {
                Id = d.Id, TenantId = d.TenantId, Source = d.Source, ExternalId = d.ExternalId, Title = d.Title, Author = d.Author,
                SourceCreatedAt = d.SourceCreatedAt, ContentType = d.ContentType, ContentHash = d.ContentHash, Metadata = d.Metadata,
                Status = d.Status, Version = d.Version, DeletedAt = d.DeletedAt
            }).FirstOrDefaultAsync(token);
            await DocumentKnowledgeQueue.RemoveExtractedAsync(db, documentId, token);
            if (document is null || document.DeletedAt is not null || document.Version != version)
            {
                db.DocumentKnowledge.Remove(state);
                await db.SaveChangesAsync(token);
                await transaction.CommitAsync(token);
                return "document gone";
            }

            // Uploaded mail has its sender only in the parsed headers, which ingestion copied onto the chunks.
            var author = document.Author ?? await db.Chunks.Where(c => c.DocumentId == documentId && c.Author != null)
                .Select(c => c.Author).FirstOrDefaultAsync(token);
            var input = Input(document, state.PendingText ?? "", author);
            var extraction = await DocumentExtractor.ExtractAsync(input, sentenceCache, token);
            var counts = await StoreAsync(document, input, extraction, author, token);

            state.Status = DocumentKnowledgeStatuses.Extracted;
            state.PendingText = null;
            state.LexiconVersion = extraction.LexiconVersion;
            state.ExtractedAt = time.GetUtcNow();
            state.LeaseOwner = null;
            state.LeaseExpiresAt = null;
            state.LeaseToken = null;
            state.Error = null;
            await db.SaveChangesAsync(token);
            await transaction.CommitAsync(token);
            return counts;
        }, ct);
    }

    private async Task LockStateAsync(Guid documentId, CancellationToken ct)
    {
        await using var command = await db.TenantCommandAsync("SELECT 1 FROM document_knowledge WHERE document_id = @d AND tenant_id = @tenant FOR UPDATE", ct);
        command.With("d", documentId);
        await command.ExecuteScalarAsync(ct);
    }

    private async Task<string> StoreAsync(Document document, DocumentInput input, DocumentExtraction extraction, string? author, CancellationToken ct)
    {
        var tenantId = document.TenantId;
        var emails = HeaderEmails(input);
        var names = extraction.Mentions
            .Select(m => new EntityResolver.Name(TypeName(m.Type), m.Text, m.Key, m.Type == EntityType.Person ? emails.GetValueOrDefault(m.Key) : null))
            .ToList();

        // What an ownership or decision is about, when no recognised entity names it, becomes a topic entity.
        // "Seun looks after Beacon accounts, clinic templates and the SMS reminders" owns three things, not one.
        var topics = new List<(Frame Frame, TextRange Range, EntityResolver.Name Name)>();
        foreach (var frame in extraction.Frames.Where(f => !f.Negated && f.Type is FrameType.Ownership or FrameType.Decision or FrameType.Process))
        {
            foreach (var (part, range) in ObjectParts(frame))
            {
                if (Covering(extraction.Mentions, frame.SentenceIndex, range) is null && TopicKey(part) is { Length: > 2 } key)
                {
                    topics.Add((frame, range, new EntityResolver.Name(EntityTypes.Topic, part.Trim(), key)));
                }
            }
        }

        // The sender and recipients (Slack speakers) are people of the tenant whether or not the text names them.
        // A role mailbox (support@, "All staff") is nobody; a party named like a company ("Northwind Labs") is one.
        var parties = (input.HeaderPeople ?? []).Prepend(input.Author).OfType<PersonRef>()
            .Where(p => !PartyNames.IsRoleMailbox(p.Name, p.Email))
            .Select(p => p with { Name = p.Name is { Length: > 0 } ? p.Name : NameFromAddress(p.Email) })
            .ToList();
        var headerPeople = parties.Where(p => !PartyNames.IsOrganisationName(p.Name))
            .Select(p => new EntityResolver.Name(EntityTypes.Person, p.Name ?? p.Email!, p.Name is { Length: > 0 } n ? KnowledgeKeys.Entity(n) : p.Email!.ToLowerInvariant(), p.Email))
            .Where(n => n.Key.Length > 0)
            .DistinctBy(n => n.Key)
            .ToList();
        // The organisations the parties belong to: named like a company, or the domain of their address.
        var headerOrganisations = parties.Where(p => PartyNames.IsOrganisationName(p.Name))
            .Select(p => new EntityResolver.Name(EntityTypes.Organization, p.Name!, KnowledgeKeys.Entity(p.Name!)))
            .Concat((input.HeaderPeople ?? []).Prepend(input.Author).OfType<PersonRef>()
                .Select(p => PartyNames.Domain(p.Email)).OfType<string>()
                .Select(domain => new EntityResolver.Name(EntityTypes.Organization, domain, domain)))
            .DistinctBy(n => n.Key)
            .ToList();
        headerPeople.AddRange(headerOrganisations);
        var resolved = await resolver.ResolveAsync(tenantId, headerPeople.Concat(names).Concat(topics.Select(t => t.Name)), ct);
        foreach (var person in headerPeople)
        {
            db.KnowledgeMentions.Add(new KnowledgeMention
            {
                TenantId = tenantId,
                EntityId = resolved[(person.Type, person.Key)],
                DocumentId = document.Id,
                SentenceIndex = -1,
                Text = Clip(person.Text, 300),
                Sentence = "",
                FromHeader = true
            });
        }

        Guid? EntityOf(EntityMention m) => resolved.TryGetValue((TypeName(m.Type), m.Key), out var id) ? id : null;
        string SentenceText(int index) => index >= 0 && index < extraction.Sentences.Count ? Clip(extraction.Sentences[index].Text, 2000) : "";

        foreach (var mention in extraction.Mentions)
        {
            if (EntityOf(mention) is not { } entityId)
            {
                continue;
            }

            db.KnowledgeMentions.Add(new KnowledgeMention
            {
                TenantId = tenantId,
                EntityId = entityId,
                DocumentId = document.Id,
                SentenceIndex = mention.SentenceIndex,
                Start = mention.Range.Start,
                Length = mention.Range.Length,
                Text = Clip(mention.Text, 300),
                Sentence = mention.Origin == MentionOrigin.Header ? "" : SentenceText(mention.SentenceIndex),
                FromHeader = mention.Origin == MentionOrigin.Header
            });
        }

        foreach (var frame in extraction.Frames.Where(f => f.Type != FrameType.Definition))
        {
            db.KnowledgeFrames.Add(new KnowledgeFrame
            {
                TenantId = tenantId,
                DocumentId = document.Id,
                Type = frame.Type.ToString().ToLowerInvariant(),
                SentenceIndex = frame.SentenceIndex,
                Sentence = SentenceText(frame.SentenceIndex),
                Trigger = Clip(frame.TriggerPhrase, 100),
                Negated = frame.Negated,
                Slots = frame.Slots.ToDictionary(s => s.Key, s => Clip(s.Value, 500)),
                MissingSlots = [.. frame.MissingSlots],
                Confidence = frame.Confidence,
                Author = author
            });
        }

        foreach (var definition in extraction.Definitions)
        {
            db.KnowledgeFrames.Add(new KnowledgeFrame
            {
                TenantId = tenantId,
                DocumentId = document.Id,
                Type = "definition",
                SentenceIndex = definition.SentenceIndex,
                Sentence = SentenceText(definition.SentenceIndex),
                Trigger = Clip(definition.Cue, 100),
                Slots = new Dictionary<string, string>
                {
                    [FrameSlots.Term] = Clip(definition.Term, 300),
                    ["termKey"] = Clip(definition.TermKey, 300),
                    [FrameSlots.Definition] = Clip(definition.Meaning, 500)
                },
                Confidence = 1,
                Author = author
            });
        }

        foreach (var claim in extraction.Claims)
        {
            db.KnowledgeClaims.Add(new KnowledgeClaim
            {
                TenantId = tenantId,
                DocumentId = document.Id,
                SubjectKey = Clip(claim.SubjectKey, 300),
                Subject = Clip(claim.Subject, 500),
                Predicate = Clip(claim.PredicateKey, 200),
                Value = Clip(claim.Value, 500),
                ValueKey = Clip(claim.NormalizedValue, 500),
                ValueKind = claim.ValueKind.ToString().ToLowerInvariant(),
                Polarity = claim.Polarity,
                SentenceIndex = claim.SentenceIndex,
                Sentence = SentenceText(claim.SentenceIndex),
                Author = author
            });
        }

        var relations = 0;
        void Relate(Guid source, Guid target, string type, double confidence, int sentenceIndex)
        {
            if (source == target)
            {
                return;
            }

            relations++;
            db.EntityRelations.Add(new EntityRelation
            {
                TenantId = tenantId,
                SourceEntityId = source,
                TargetEntityId = target,
                Type = type,
                Confidence = confidence,
                DocumentId = document.Id,
                SentenceIndex = sentenceIndex,
                Sentence = SentenceText(sentenceIndex)
            });
        }

        foreach (var frame in extraction.Frames.Where(f => !f.Negated))
        {
            var (personSlot, type) = frame.Type switch
            {
                FrameType.Ownership or FrameType.Process or FrameType.Problem => (FrameSlots.Owner, RelationTypes.Owns),
                FrameType.Decision => (FrameSlots.Agent, RelationTypes.Decided),
                _ => ((string?)null, (string?)null)
            };
            if (personSlot is null || type is null || !frame.SlotRanges.TryGetValue(personSlot, out var personRange)
                || Overlapping(extraction.Mentions, frame.SentenceIndex, personRange, person: true) is not { } person
                || EntityOf(person) is not { } source)
            {
                continue;
            }

            foreach (var (_, range) in ObjectParts(frame))
            {
                Guid? target = null;
                if (Covering(extraction.Mentions, frame.SentenceIndex, range) is { } thing)
                {
                    target = EntityOf(thing);
                }
                else if (topics.FirstOrDefault(t => ReferenceEquals(t.Frame, frame) && t.Range == range).Name is { } topic
                         && resolved.TryGetValue((topic.Type, topic.Key), out var topicId))
                {
                    target = topicId;
                }

                if (target is { } targetId)
                {
                    Relate(source, targetId, type, frame.Confidence, frame.SentenceIndex);
                }
            }
        }

        // The author works on the projects and systems the document talks about: the weakest evidence, once each.
        if (input.Author is { } writer && headerPeople.FirstOrDefault(p => p.Email == writer.Email && p.Text == (writer.Name ?? writer.Email)) is { } authorName
            && resolved.TryGetValue((authorName.Type, authorName.Key), out var authorId))
        {
            foreach (var group in extraction.Mentions.Where(m => m.Type != EntityType.Person && m.Origin == MentionOrigin.Text).GroupBy(EntityOf))
            {
                if (group.Key is { } entityId)
                {
                    var first = group.First();
                    Relate(authorId, entityId, first.Type is EntityType.Project or EntityType.System ? RelationTypes.WorksOn : RelationTypes.Mentions, 0.3, first.SentenceIndex);
                }
            }
        }

        return $"{extraction.Sentences.Count} sentences, {extraction.Frames.Count} frames, {extraction.Mentions.Count} mentions, {extraction.Claims.Count} claims, {relations} relations";
    }

    private static EntityMention? Overlapping(IReadOnlyList<EntityMention> mentions, int sentenceIndex, TextRange range, bool person) =>
        mentions.FirstOrDefault(m => m.SentenceIndex == sentenceIndex && m.Origin != MentionOrigin.Header
            && (m.Type == EntityType.Person) == person
            && m.Range.Start < range.End && range.Start < m.Range.End);

    /// <summary>
    /// The entity an object slot is: a mention that covers most of it ("the Kubernetes cluster"), not one word inside a
    /// longer phrase ("Carrier onboarding on Relay" is the onboarding, not Relay), which becomes a topic instead.
    /// </summary>
    private static EntityMention? Covering(IReadOnlyList<EntityMention> mentions, int sentenceIndex, TextRange range) =>
        Overlapping(mentions, sentenceIndex, range, person: false) is { } mention
        && Math.Min(mention.Range.End, range.End) - Math.Max(mention.Range.Start, range.Start) >= 0.6 * range.Length
            ? mention
            : null;

    private static string TypeName(EntityType type) => type switch
    {
        EntityType.Person => EntityTypes.Person,
        EntityType.Organization => EntityTypes.Organization,
        EntityType.Project => EntityTypes.Project,
        EntityType.System => EntityTypes.System,
        EntityType.Acronym => EntityTypes.Acronym,
        _ => EntityTypes.Term
    };

    /// <summary>Mention key → e-mail for the people in the headers, so a person is also found by address.</summary>
    private static Dictionary<string, string> HeaderEmails(DocumentInput input)
    {
        var emails = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var person in (input.HeaderPeople ?? []).Append(input.Author))
        {
            if (person is { Email: { Length: > 0 } email })
            {
                if (person.Name is { Length: > 0 } name)
                {
                    emails.TryAdd(TopicKey(name), email);
                }

                emails.TryAdd(email.ToLowerInvariant(), email);
            }
        }

        return emails;
    }

    /// <summary>The extraction input: text plus the people a document's headers name (mail From/To, Slack speakers).</summary>
    public static DocumentInput Input(Document document, string text, string? authorOverride = null)
    {
        // An uploaded chat export (a JSON array of messages) is read as the conversation it is.
        var transcript = ChatTranscript.Normalize(text);
        text = transcript ?? text;
        var author = Person(authorOverride ?? document.Author);
        var people = new List<PersonRef>();
        var metadata = JsonSerializer.Deserialize<Dictionary<string, string>>(document.Metadata, Json) ?? [];
        if (metadata.TryGetValue("to", out var to) && InternetAddressList.TryParse(to, out var recipients))
        {
            people.AddRange(recipients.Mailboxes.Select(m => new PersonRef(string.IsNullOrWhiteSpace(m.Name) ? null : m.Name.Trim(), m.Address)));
        }

        if (metadata.ContainsKey("threadTs") || transcript is not null)
        {
            foreach (Match speaker in SlackSpeaker().Matches(text))
            {
                people.Add(new PersonRef(speaker.Groups[1].Value.Trim(), null));
            }
        }

        return new DocumentInput(document.Id, text, document.Title, document.Source, author,
            document.SourceCreatedAt, people.DistinctBy(p => (p.Name?.ToLowerInvariant(), p.Email?.ToLowerInvariant())).ToList());
    }

    private static PersonRef? Person(string? author)
    {
        if (string.IsNullOrWhiteSpace(author))
        {
            return null;
        }

        if (MailboxAddress.TryParse(author, out var mailbox) && mailbox.Address.Contains('@'))
        {
            return new PersonRef(string.IsNullOrWhiteSpace(mailbox.Name) ? null : mailbox.Name.Trim(), mailbox.Address);
        }

        return author.Contains('@') ? new PersonRef(null, author.Trim()) : new PersonRef(author.Trim(), null);
    }

    private static string TopicKey(string text) => KnowledgeKeys.Entity(text);

    /// <summary>
    /// The things a frame's object names: each item of a list ("A, B and C", "A and B") for an ownership, else the
    /// object as a whole. A list is split only where the slot's text is the document's text at its range.
    /// </summary>
    private static IEnumerable<(string Text, TextRange Range)> ObjectParts(Frame frame)
    {
        if (!frame.SlotRanges.TryGetValue(FrameSlots.Object, out var range) || !frame.Slots.TryGetValue(FrameSlots.Object, out var text))
        {
            yield break;
        }

        if (frame.Type == FrameType.Ownership && text.Length == range.Length)
        {
            var parts = new List<(string, TextRange)>();
            var start = 0;
            foreach (Match separator in ListSeparator().Matches(text))
            {
                parts.Add((text[start..separator.Index], new TextRange(range.Start + start, range.Start + separator.Index)));
                start = separator.Index + separator.Length;
            }

            parts.Add((text[start..], new TextRange(range.Start + start, range.End)));
            if (parts.Count is >= 2 and <= 8 && parts.All(p => p.Item1.Trim().Length >= 3 && p.Item1.Length <= 80))
            {
                foreach (var part in parts)
                {
                    yield return part;
                }

                yield break;
            }
        }

        yield return (text, range);
    }

    [GeneratedRegex(@",\s*(?:and\s+|or\s+)?|\s+and\s+|\s*;\s*", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex ListSeparator();

    /// <summary>
    /// "priya.raman@northwind.example" is Priya Raman: a bare address whose local part is two or three alphabetic
    /// words becomes a name, so a recipient listed without a display name is the same person as when named.
    /// </summary>
    private static string? NameFromAddress(string? email)
    {
        var local = email?.Split('@')[0];
        var parts = local?.Split(['.', '_', '-'], StringSplitOptions.RemoveEmptyEntries);
        if (parts is not { Length: >= 2 and <= 3 } || parts.Any(p => p.Length < 2 || !p.All(char.IsLetter)))
        {
            return null;
        }

        return string.Join(' ', parts.Select(p => char.ToUpperInvariant(p[0]) + p[1..].ToLowerInvariant()));
    }

    private static string Clip(string value, int length) => value.Length <= length ? value : value[..length];

    // "Name: message" lines, the form SlackThreads writes a thread in.
    [GeneratedRegex(@"^([^:\n]{2,60}): ", RegexOptions.Multiline | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex SlackSpeaker();
}
