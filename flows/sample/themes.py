"""Templates for the seven benefit codes of Chretien et al. (2015).

ACCESS: information, collaboration, perspectives, community.
VOICE: advocacy, digital_footprint, equalization.

Per theme: ``codes`` (Chretien codes, mentorship codes) given to every post made from it;
``explicit`` templates use the code's obvious words, ``implicit`` ones express the code
without any word matched by ``KEYWORDS`` (the generator draws them for ~15% of coded
posts, so that coding by keyword alone misses some); ``reply`` bodies (the generator adds
the leading @mentions) and ``quote`` comments (it adds the quoted tweet's link).
A template starting with ``S|`` is in a trainee's voice (students and residents only);
one starting with ``F|`` is in a senior's voice (never used by students).
"""

KEYWORDS = {  # the obvious cue words of each code, for keyword baselines and checks
    "information": r"read|article|paper|resource|pearl|tip|review|guide|learn|summary|source|"
                   r"published|new issue|podcast|course|chapter|slides|infographic|"
                   r"question bank|journal|explainer|one-pager|artículo|recurso|repaso",
    "collaboration": r"collab|co-?authors?|team|together|project|partner|join|count me in|"
                     r"help with|survey|abstract|working with|cross-school|reviewers|let's",
    "perspectives": r"perspective|point of view|lens|stor(y|ies)|eyes|viewpoint|patient|nurses?|"
                    r"pharmacist|interpreter|listen|humbl|global|other side|paciente|escuchar|intérpretes",
    "community": r"communit|belong|support|family|tribe|together|#MedStudentTwitter|proud|cheer|"
                 r"love|friend|welcome|congrat|thank|grateful|you've got this|not alone|rooting|"
                 r"all of us|gracias|apoyo|aquí estamos",
    "advocacy": r"advoca|polic(y|ies)|legislat|vote|equity|speak up|call (your|my)|senator|"
                r"representative|statehouse|vaccin|debt|gun|uninsured|access|signed|voice|"
                r"misinformation|vacunas|acceso",
    "digital_footprint": r"footprint|online|profile|blog|\bCV\b|portfolio|presence|"
                         r"professionalism|publish|poster|paper is out|social media|real name|"
                         r"public|post\b",
    "equalization": r"dean|editor|chair|professor|faculty|hierarch|director|attending|"
                    r"as a student|senior|leader|titles|equals|flatten",
}

THEMES = {
    "information": {
        "codes": (["information"], []),
        "explicit": [
            "{check} this review of {topic}, {great} for anyone on {rotation} {link}",
            "Clinical pearl from {when}: always recheck the potassium before you replete magnesium... or was it the other way around? Reading up now {link}",
            "New in {journal}: \"{article}\" {paperlink}",
            "S|Study tip that finally worked for {exam}: {tip}. Wish I'd learned it sooner.",
            "{great} open-access resource on {topic} {link}",
            "Reading \"{article}\" on the train. Thoughtful methods, worth a look {paperlink}",
            "If you're prepping for {exam}, this guide to {topic} saved me hours {link}",
            "Pearl: in {topic}, the history gets you 80% of the way there. Ask one more question.",
            "S|Our attending's tip for {topic}: say the differential out loud before you order anything.",
            "S|Saving this article on {topic} for my {rotation} rotation {link}",
            "Quick review of {topic} before tomorrow's call, sharing in case it helps {link}",
            "Just learned that there's {resource}. Free! {link}",
        ],
        "implicit": [
            "TIL the anion gap can look normal in a patient with low albumin. Mind blown {emoji}",
            "Five things about {topic} nobody mentions in lecture: it's messier than the textbook, ask the nurses, recheck labs, write it down, repeat.",
            "Today's clinical nugget: a normal lactate does not rule out sepsis.",
            "Finally understand {topic} thanks to a 3-minute whiteboard session in the workroom.",
            "Mnemonics are fine, but drawing {topic} out on a napkin is what made it stick for me.",
        ],
        "reply": ["S|Adding this to my {rotation} reading folder, thanks!", "{great} summary. The part on {topic} is gold.",
                  "Another good read on this: {link}", "S|Saving this review for {exam}, {thanks}!",
                  "Do you have the source for that? Want to read more.", "This helped me on call last week"],
        "quote": ["Required reading for every MS3.", "{great} thread on {topic}.",
                  "S|Saving this guide for {exam} season", "This is the clearest take on {topic} I've seen."],
    },
    "collaboration": {
        "codes": (["collaboration"], []),
        "explicit": [
            "Looking for collaborators on {project}. Students welcome, DM me!",
            "Met {@peer} here on Twitter last year and now we're co-authoring an abstract for {conf}. This place works.",
            "Anyone interested in teaming up on {project}? Have a mentor, need hands.",
            "Our multi-school project on {topic} just got IRB approval! Thanks to everyone who joined {emoji}",
            "Huge thanks to my co-authors {@peer} and {@senior} for pulling this together {paperlink}",
            "S|Calling students at other schools: want to partner on a survey about {topic}?",
            "Proud of this team: {project} started as a Twitter conversation. Now it's a poster at {conf}.",
            "We're putting together a cross-school study group for {exam}. Join us!",
            "Working with {@peer} on {project} and learning so much about stats, R and patience.",
            "Open call: medical students who want to collaborate on {project}. Reply or DM.",
        ],
        "implicit": [
            "Two schools, four students, one shared spreadsheet and a lot of late-night video calls. Submitted!",
            "If you're into {specialty} research and need someone to chart-review with, my DMs are open.",
            "Started as a DM about {topic}, now we have a draft manuscript. Still surprised.",
            "Need a stats buddy for a chart review on {topic}. Will bring snacks.",
        ],
        "reply": ["Count me in! Emailing you now.", "I'd love to help with this, sending a DM",
                  "We did something similar at our school, happy to share our survey",
                  "Let's set up a call this week?", "So in. What's the timeline?"],
        "quote": ["Students: great chance to join a research team.", "They're looking for more collaborators on this!",
                  "This is how collaborations start. Reach out!"],
    },
    "perspectives": {
        "codes": (["perspectives"], []),
        "explicit": [
            "Spent the day with {group}. Seeing the ward through their eyes changed how I round.",
            "A patient's story I keep thinking about: she waited six hours and still thanked every single one of us.",
            "Different perspective today from {group} on {topic}. We don't ask them enough.",
            "Reading patients' stories about {topic} is the best lens for understanding what 'adherence' really means.",
            "S|Global health elective at {place} gave me a whole new point of view on what 'resource-limited' means.",
            "Every student should spend a shift with {group}. Their perspective makes us better doctors.",
            "Heard {@any} talk about {topic} from the patient side. Humbling and necessary.",
            "The family's view of {topic} was so different from ours. Listening first, always.",
        ],
        "implicit": [
            "Shadowed {group} for the afternoon. They notice everything we miss.",
            "S|The man in bed 12 asked me what I would do if it were my mom. I didn't have a good answer.",
            "Spent clinic next to a Vietnamese-speaking translator today and realised how much gets lost when we rush.",
            "Worked a week at {place}. Came home quieter, and grateful.",
        ],
        "reply": ["This is so important. Thank you for sharing their story.", "We need more patient voices in the curriculum",
                  "Beautifully said.", "Patients are our best teachers.",
                  "S|I had a similar moment with a patient on {rotation}. Stays with you."],
        "quote": ["Read this before your next clinic. Their perspective matters.", "This is why we listen.",
                  "A patient's view every trainee should hear."],
    },
    "community": {
        "codes": (["community"], []),
        "explicit": [
            "S|Never felt like I belonged in med school until I found #MedStudentTwitter {emoji}",
            "Grateful for this community. Bad shelf week and so many kind messages.",
            "Shoutout to everyone studying for {exam} tonight. We're in this together.",
            "Twitter friends turned real friends at {conf}! Finally met {@peer} IRL {emoji}",
            "The support on here today means more than you know. Thank you all.",
            "To the first years reading this: you belong here, and this community has your back.",
            "Love this community of students, residents and faculty cheering each other on.",
            "Happy white coat day to all the new MS1s! Welcome to the family {emoji}",
            "S|#MedStudentTwitter, who's on {rotation} right now? Let's swap survival notes.",
        ],
        "implicit": [
            "S|Whoever started the 3am study group chat: you're a hero. Same boat, every one of us.",
            "S|Somebody on here sent me a care package during {exam} week. I cried a little.",
            "Five strangers from five schools kept me sane this month. Twitter is weird and wonderful.",
            "S|Met three people from this app at {conf} and it felt like a reunion.",
        ],
        "reply": ["You've got this!", "Cheering for you {emoji}", "Proud of you, friend",
                  "We're all rooting for you", "Sending so much love", "Same here, let's get through it together"],
        "quote": ["This is what this community is for.", "Love this so much {emoji}",
                  "Reminder that you're not alone out there."],
    },
    "advocacy": {
        "codes": (["advocacy"], []),
        "explicit": [
            "Students can be advocates too. Today we met with our representatives about {policy}.",
            "Gun violence is a public-health issue. We study it like one or we fail our patients.",
            "Get your flu shot. Then tell a friend to get theirs. #VaccinesWork",
            "Health equity isn't a buzzword; it's the difference between our two clinics across town.",
            "Call your senator about {policy} this week. Here's a one-page script {link}",
            "We need to speak up on {policy}. Our patients can't wait.",
            "Student debt is shaping who becomes a doctor and which specialties they choose. That's a policy problem.",
            "Proud of our chapter for advocating on {policy} at the statehouse today {emoji}",
            "Measles is back because of vaccine misinformation. Physicians and students: speak up.",
            "New {journal} piece on {policy} and what it means for trainees {paperlink}",
        ],
        "implicit": [
            "Took four minutes to phone a state lawmaker's office this morning. Easiest thing I did all week.",
            "A patient rationed insulin because of cost. That should make all of us angry.",
            "Shots save lives. We should be loud about that.",
            "Our free clinic saw 40 people with no coverage this Saturday. Forty. In one of the richest cities in the world.",
        ],
        "reply": ["Thank you for using your voice on this.", "Signed and shared.",
                  "Student advocates leading the way again.", "We need more trainees speaking up about this",
                  "Just called my senator too!"],
        "quote": ["Every trainee should read this policy brief.", "This. Our patients need us to show up on this.",
                  "Please share widely. Our patients need a voice here."],
    },
    "digital_footprint": {
        "codes": (["digital_footprint"], []),
        "explicit": [
            "S|Spent the weekend cleaning up my online presence. Future program directors, hi {emoji}",
            "S|New blog post on what {rotation} taught me about listening {bloglink}",
            "Think before you tweet: your digital footprint follows you into residency.",
            "Updated my online CV and portfolio. Feels good to see the year in one place {bloglink}",
            "Professionalism online isn't about being boring; it's about being someone patients can trust.",
            "My poster from {conf} is now online for anyone who missed it {bloglink}",
            "Wrote up some thoughts on social media professionalism for students {bloglink}",
            "Reminder to self: my profile is public, and that's a choice I make on purpose.",
        ],
        "implicit": [
            "S|Googled myself for the first time since starting med school. Good news: it's mostly my research abstract.",
            "Put my research abstract from {conf} at the top of my page. Feels official now.",
            "Our school just ran a session on what never to tweet. Half the room nervously checked their phones.",
            "S|Wrote 900 words about my first code and put them out into the world. Terrifying {bloglink}",
        ],
        "reply": ["Great advice for anyone building an online presence", "Bookmarking this for our social media professionalism session",
                  "Love your blog, keep writing!", "Such a thoughtful post."],
        "quote": ["Every med student should read this before they post.",
                  "Smart thoughts on being a professional in public."],
    },
    "equalization": {
        "codes": (["equalization"], []),
        "explicit": [
            "As a student, I never expected the editor of {journal} to reply to my question. Twitter flattens the hierarchy {emoji}",
            "Had a real back-and-forth with {@senior} about {topic}. I'm an MS2. This would never happen in a lecture hall.",
            "Love that our dean answers student questions on here. {@senior} thanks for listening.",
            "Where else can a first-year talk about {topic} with a department chair at 10pm?",
            "Asked {@journal} about their student submission policy and the editor answered in an hour.",
            "Nice to see faculty and students debating {topic} as equals here.",
            "{@senior} thank you for taking my question seriously. Hierarchy melts a little on Twitter.",
        ],
        "implicit": [
            "Never imagined I'd be debating {topic} with the person who wrote the textbook chapter on it.",
            "An MS1 and a program head walk into a Twitter thread about {topic}... and the MS1 has a point.",
            "Tweeted a question about {topic}; got answers from a nurse, a chief resident and a surgeon with 30 years on the job within minutes.",
        ],
        "reply": ["As a student, thanks for answering, it means a lot!",
                  "Really appreciate faculty like you engaging with us students.",
                  "As a student this is so helpful to hear directly from you.",
                  "Respectfully, I saw it differently on {rotation}. Curious what you think?"],
        "quote": ["Students: faculty on here want to hear from you.", "This is why I love this platform: faculty actually answer students."],
    },
}
