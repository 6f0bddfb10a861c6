"""Mentorship templates, sponsorship posts, Match Day and #MedEdChat topics.

The six mentorship themes have the same layout as ``themes.THEMES``; every theme also
carries a Chretien code, so these posts are coded in both schemes. ``sponsorship`` has
no theme of its own: the generator codes it only on a senior's quote that amplifies a
trainee's work post (``SPONSOR_QUOTES``), so every sponsorship code has a truth event.
"""

KEYWORDS = {  # the obvious cue words of each code, as in ``themes.KEYWORDS``
    "mentorship": r"mentor|sponsor",
    "coaching": r"coach|advice|feedback|\btips?\b|presentation|present|differential|"
                r"lead with|start with|pick one|ask (your|for)|teach|preceptor",
    "advice_seeking": r"\btips?\b|advice|suggestions|recommend|\bhelp\b",
    "reassurance": r"normal|not alone|it gets better|you'll be|okay|fine|belong|hang in there|"
                   r"deep breath|you know more|earned|no estás sola",
    "resource_sharing": r"resource|free|bookmark|shar(e|ing)|here's|folder|list|"
                        r"adding|this one",
    "burnout_work_life": r"burn|exhaust|wellness|well-being|self-care|sleep|\brest\b|tired|day off|"
               r"protected|time off|mental health|take care of yourself|descansar|dormir",
    "sponsorship": r"proud|congrat|shout|follow|well deserved|future leader",
}

MENTOR_THEMES = {
    "mentorship": {
        "codes": (["community"], ["mentorship"]),
        "explicit": [
            "Find mentors who ask what you want, not mentors who tell you what you should want.",
            "S|Monthly mentor meeting with {@senior} today. Left with a plan and a reading list.",
            "S|Grateful for my mentor {@senior}, who answered my 11pm panic email with kindness.",
            "F|Mentoring students is the best part of my week. Office hours are open.",
            "A good mentor opens doors you didn't know existed. Be that person for someone.",
            "Mentorship tip: bring an agenda, leave with one next step.",
        ],
        "implicit": [
            "Someone believed in me when I didn't. Now I try to pay that forward every rotation.",
            "S|Coffee with a senior resident turned into a two-hour talk about what kind of doctor I want to be.",
        ],
        "reply": ["S|I'd love to meet sometime if you have space for another mentee!",
                  "S|Your mentorship has meant so much to me.", "F|This is the kind of mentor I hope to be."],
        "quote": ["Mentors, take note.", "Every student deserves a mentor like this."],
    },
    "coaching": {
        "codes": (["information"], ["coaching"]),
        "explicit": [
            "Advice for students on {rotation}: pre-round early, own your patients, ask for feedback midway.",
            "Feedback tip for students: ask 'what's one thing I could do better tomorrow?' It works.",
            "My advice for {exam}: fewer resources, more practice questions, and sleep.",
            "To the MS3s starting {rotation}: read about your patients, not everything. Depth beats breadth.",
            "Presenting on rounds? Lead with your assessment. We want to hear how you think.",
        ],
        "implicit": [
            "Students: the best cases I hear on rounds open with one line about who the patient is and close with what we should do.",
            "If you don't know, say 'I don't know, but I'll find out.' Then actually find out.",
            "Commit to your own list of possibilities before looking at anyone else's note.",
        ],
        "reply": ["Go in curious, ask for feedback early, and read about your patients every night.",
                  "F|Happy to look over your personal statement and give feedback, send it my way.",
                  "You're overthinking it, which means you care. Pick one resource and go deep.",
                  "Start with questions, keep a one-page summary per topic, and protect your sleep.",
                  "Tip: ask your residents what they want from you on day one. Makes everything easier."],
        "quote": ["Good advice for students on {rotation}.", "Listen to this person's advice."],
    },
    "advice_seeking": {
        "codes": (["information"], ["advice_seeking"]),
        "explicit": [
            "Any tips for away rotations in {specialty}? Starting in a month and terrified.",
            "#MedStudentTwitter: advice for choosing between {specialty} and {specialty}?",
            "Residents of Twitter: what do you wish students did on day one of {rotation}?",
            "Looking for suggestions on how to study for {exam} while on {rotation}. Help?",
            "What's your best advice for asking for letters of recommendation?",
            "Any tips for presenting on rounds without rambling? Asking for me.",
        ],
        "implicit": [
            "How do people actually fit research into third year? Genuinely curious.",
            "Interview season question: thank-you notes, yes or no?",
            "Okay {specialty} people, what should be on my shelf before my sub-I?",
        ],
        "reply": ["Following this thread, I need the same advice!", "Also wondering about this. Any tips?",
                  "Would love to hear answers to this too."],
        "quote": ["Great question, helpful advice in the replies.", "Students, read the replies here."],
    },
    "reassurance": {
        "codes": (["community"], ["reassurance"]),
        "explicit": [
            "Failed a practice test? Totally normal. It's practice for a reason.",
            "Reminder: everyone feels lost the first week of {rotation}. You're not alone.",
            "If today was a bad day on the wards, it's okay. It gets better.",
            "Imposter syndrome is normal and also lying to you. You earned your seat.",
        ],
        "implicit": [
            "F|Ten years ago I cried in a stairwell after my first call night. Today I'm an attending. You'll get there.",
            "You won't remember this exam in five years. You'll remember the patients.",
        ],
        "reply": ["You're going to be fine, truly. Everyone feels this way.",
                  "Totally normal, I felt the same on {rotation}.",
                  "You belong there. One day at a time.",
                  "Deep breath. You know more than you think."],
        "quote": ["Every student needs to hear this today.", "Saving for the next hard week."],
    },
    "resource_sharing": {
        "codes": (["information"], ["resource_sharing"]),
        "explicit": [
            "S|Sharing the free resources that got me through {rotation}: {link}",
            "For students on {rotation}: {resource} {link}",
            "My bookmark folder for {exam}, all free: {link}",
            "Resource drop for MS1s: the anatomy videos our TA swears by {link}",
        ],
        "implicit": [
            "F|The {topic} video I send every student who rotates with me: {link}",
            "Made a one-page cheat sheet on {topic}. Take it, use it, improve it {link}",
        ],
        "reply": ["F|Here's one I send all my students: {link}", "Adding another to the pile {link}",
                  "This one helped me a lot: {link}"],
        "quote": ["F|{great} list. Adding to our clerkship page.", "Bookmark this one."],
    },
    "burnout_work_life": {
        "codes": (["community"], ["burnout_work_life"]),
        "explicit": [
            "Burnout is real, and it starts in med school. We need to talk about it more.",
            "Exhausted after a 28-hour call. Going to sleep, then a walk, then maybe a vegetable.",
            "Self-care isn't bubble baths; it's a schedule that lets you sleep.",
            "Protected my one day off this week. Wellness is a skill too.",
        ],
        "implicit": [
            "Haven't seen daylight in four days. Going for a walk before I forget what trees look like.",
            "Skipped studying tonight to call my sister. Zero regrets.",
            "Took a whole Saturday away from the books. The sky did not fall.",
        ],
        "reply": ["Take care of yourself first, the studying will wait.",
                  "Rest is productive. Sleep well!", "Same. Sending strength.",
                  "Proud of you for taking a day off."],
        "quote": ["We need to talk about burnout more in medicine.", "Important for every trainee's wellness."],
    },
}

# A mentee answering the mentor in a thread.
MENTEE_REPLIES = [
    "{thanks}, this is exactly what I needed to hear.", "Taking notes. Can I email you about it this week?",
    "{thanks}! Trying this tomorrow on {rotation}.", "This helps so much, thank you. I'll report back!",
    "Really appreciate you taking the time to mentor me.", "Okay, that makes me feel a lot better {emoji}",
    "Good point. I'll bring a plan to our next mentor meeting.",
]
MENTEE_CODES = (["community"], ["mentorship"])

# A trainee's work: what a sponsor amplifies.
WORK_POSTS = {
    "paper": ["Our paper is out! \"{article}\" in {journal} {paperlink}",
              "My first first-author paper is finally published {emoji} {paperlink}",
              "Two years of work on {project}, now in print {paperlink}"],
    "poster": ["Poster today at {conf}! Come say hi, board 42 {emoji}",
               "Presenting our poster on {topic} at {conf} this afternoon {bloglink}"],
    "award": ["Honored to receive the student teaching award this year. Still processing {emoji}",
              "Our team won best abstract at {conf} for {project}!"],
    "match": ["I MATCHED!!! {match} at {program} {emoji} #Match{year}",
              "Future {match} resident at {program}! #Match{year} {emoji}"],
}
WORK_CODES = {"paper": (["digital_footprint"], []), "poster": (["digital_footprint"], []),
              "award": (["digital_footprint"], []), "match": (["community"], [])}
SPONSOR_QUOTES = [
    "So proud of {@trainee}! Read this.", "Huge congrats to {@trainee}, future leader in {specialty}.",
    "Watching {@trainee} grow has been a joy. Well deserved!", "Shout-out to {@trainee}: this is excellent work.",
    "Everyone follow {@trainee}. You'll thank me later.", "Proud mentor moment {emoji} congrats {@trainee}",
]
SPONSOR_CODES = (["community"], ["sponsorship"])
MATCH_SPECIALTY = {"EMbound_Kofi": "emergency medicine", "DermDreamerBea": "dermatology",
                   "zoe_on_call": "OB/GYN"}
PROGRAMS = ["Lakeshore University Hospital", "Fictional Memorial Medical Center",
            "Riverbend Health System", "State Fictional University Hospitals", "Harborview-on-Example"]
MATCH_CONGRATS = ["Congrats to everyone who matched today! #Match{year} {emoji}",
                  "Match Day tears are the best tears. So proud of our students. #Match{year}",
                  "Refreshing my feed and crying at everyone's match news #Match{year}"]

CHAT_INTRO = "Welcome to #MedEdChat! Tonight: {title}. Q1 in 5 minutes. Introduce yourselves!"
CHAT_WRAP = "Thanks for a great #MedEdChat tonight on {title}, everyone! Same time next week."
CHAT_CODES = (["community"], [])
CHAT_TOPICS = [
    dict(title="mentorship in the digital age", codes=(["community"], ["mentorship"]),
         questions=["How did you find your first mentor?", "Can a mentor relationship start on Twitter?",
                    "What should students bring to a first mentor meeting?"],
         answers=["My first mentor started as a cold email and a lot of courage", "Yes! Two of my mentors I met here first",
                  "Come with one question and one goal", "Honestly a senior resident just adopted me on day one",
                  "Be clear with your mentor about what you want help with", "Mentors and sponsors are different and we need both"]),
    dict(title="professionalism online", codes=(["digital_footprint"], []),
         questions=["What does professionalism online mean to you?", "Should students use their real names?",
                    "What would you never post?"],
         answers=["Would I say it in an elevator at the hospital? Then maybe", "Real name, public, and careful",
                  "Never post anything about a patient, even 'de-identified'", "I think of my future patients reading it",
                  "My school's social media policy is two pages and nobody has read it", "Professionalism online doesn't mean boring"]),
    dict(title="advocacy in training", codes=(["advocacy"], []),
         questions=["Should trainees advocate on health policy?", "What issue are you most passionate about?",
                    "How do we make time for advocacy during training?"],
         answers=["Our patients' problems are policy problems", "Vaccination rates in our clinic",
                  "Student debt and who gets to become a doctor", "Gun violence prevention",
                  "Small things count: one call, one letter", "We need advocacy taught, not just tolerated"]),
    dict(title="wellness and burnout", codes=(["community"], ["burnout_work_life"]),
         questions=["What keeps you well during training?", "How do you recognise burnout in a colleague?",
                    "What should schools change?"],
         answers=["Running, and a hard stop at 10pm so I sleep", "When the jokes stop, I worry", "Pass/fail preclinicals",
                  "Real mental health access, not a pamphlet", "My dog. Entirely my dog", "Protected time off that's actually protected"]),
    dict(title="feedback on the wards", codes=(["information"], ["coaching"]),
         questions=["What's the best feedback you ever got?", "How do you ask for feedback?",
                    "How can faculty make feedback specific?"],
         answers=["The feedback 'commit to a plan' changed everything", "I ask for feedback on one thing to do differently tomorrow",
                  "Timely and specific beats long and vague", "Tell me what you saw, not who I am",
                  "Midpoint feedback should be mandatory", "Students can give feedback too!"]),
    dict(title="interprofessional education", codes=(["perspectives"], []),
         questions=["What have you learned from another profession?", "How do we train together earlier?",
                    "Who on the team is underappreciated?"],
         answers=["Nurses taught me how to actually place an IV", "Pharmacists catch what we miss daily",
                  "Shared simulations from year one", "Our unit clerks run the hospital, honestly",
                  "Interpreters. Every single day", "Joint rounds with PT changed how I write discharge plans"]),
    dict(title="Twitter as a learning tool", codes=(["information"], []),
         questions=["What's the most useful thing you learned on Twitter?", "How do you curate your feed?",
                    "How do you judge the quality of #FOAMed?"],
         answers=["ECG of the week threads", "Lists! Lists for everything", "Check who wrote it and their sources",
                  "Journal accounts plus a few great educators", "I read more papers now because of Twitter",
                  "Peer review is slower but still matters"]),
    dict(title="hierarchy in medicine", codes=(["equalization"], []),
         questions=["Does social media flatten the medical hierarchy?", "Have you talked with a senior leader online?",
                    "How can faculty make students feel heard?"],
         answers=["Our dean replies to students here, that says a lot", "Yes, an editor answered my question once",
                  "It flattens it online, less so on the wards", "Ask our opinion and actually use it",
                  "Students see things faculty don't", "Titles matter less in a thread"]),
    dict(title="global health education", codes=(["perspectives"], []),
         questions=["What did a global health experience teach you?", "How do we avoid voluntourism?",
                    "What about local global health?"],
         answers=["Humility, and a new perspective on my own hospital", "Partner long-term, follow local leadership", "Our refugee clinic is global health",
                  "Language access is a global health issue here too", "Ask what the community wants first",
                  "Bidirectional exchange or nothing"]),
    dict(title="research as a student", codes=(["collaboration"], []),
         questions=["How did you get started in research?", "How do you find collaborators?",
                    "What makes a good student research project?"],
         answers=["I emailed five faculty, one said yes", "Twitter! Literally found my co-author here",
                  "Small, answerable question, clear mentor", "QI projects count too",
                  "Start with a case report", "Cross-school projects are the future"]),
    dict(title="the road to Match", codes=(["community"], ["advice_seeking"]),
         questions=["What surprised you about interview season?", "How did you choose your rank list?",
                    "Advice for next year's applicants?"],
         answers=["How kind the residents were", "Gut feeling plus spreadsheets", "My advice: start your personal statement early",
                  "Tip: apply broadly and breathe", "Ask residents if they're happy. Watch their faces",
                  "Your worth isn't your Match result"]),
    dict(title="teaching as a trainee", codes=(["information"], ["coaching"]),
         questions=["How do residents teach on busy days?", "What makes a great teaching moment?",
                    "How can students teach each other?"],
         answers=["One-minute preceptor, every time", "Teach at the bedside, with the patient",
                  "Near-peer sessions before shelf exams", "Ask the student what they think first",
                  "Five-minute chalk talks", "Teaching is how I learn"]),
]
CHAT_CROSS = ["Agree!", "So true.", "Love this answer.", "Yes, and we need more of it.",
              "+1, same at our school.", "This is such a good point.", "Couldn't agree more."]
