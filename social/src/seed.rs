//! Demo content for `nest dev`: a few profiles, follows, posts (one in an NFT's thread),
//! comments and likes, signed by the given keys like any client would, so the feeds are alive.

use crate::{
    error::Result,
    message::{Body, Like, Link, Post, Profile, signed_envelope},
    service::{SocialService, now_ms},
};
use alloy::{
    primitives::{Address, B256, U256},
    signers::local::PrivateKeySigner,
};

/// What was seeded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SocialSeed {
    /// Profiles set.
    pub profiles: usize,
    /// Posts and comments.
    pub posts: usize,
    /// Likes.
    pub likes: usize,
}

const PEOPLE: [(&str, &str, &str); 3] = [
    (
        "nest_alice",
        "Alice",
        "Collects generative art. Votes on every proposal.",
    ),
    ("nest_bob", "Bob", "Sells what Alice does not buy."),
    ("nest_carol", "Carol", "Here for the auctions."),
];

/// Seeds demo content signed by `keys` (the first three are used); `nft` gets a discussion
/// thread. Does nothing when the first account already has its demo handle.
pub async fn seed_demo(
    social: &SocialService,
    keys: &[PrivateKeySigner],
    nft: Option<(Address, U256)>,
) -> Result<SocialSeed> {
    let mut seed = SocialSeed::default();
    let Some(keys) = keys.get(..3) else {
        return Ok(seed);
    };
    if social
        .repo()
        .profile(&keys[0].address())
        .await?
        .is_some_and(|p| p.handle.is_some())
    {
        return Ok(seed);
    }
    let now = (now_ms() / 1000) as u64;
    let send = |body: Body, key: &PrivateKeySigner| {
        let envelope = signed_envelope(social.domain(), &body, key, None);
        async move { social.submit(&envelope?, now_ms()).await.map(|a| a.hash) }
    };
    for (key, (handle, name, bio)) in keys.iter().zip(PEOPLE) {
        let profile = Body::Profile(Profile {
            account: key.address(),
            timestamp: now,
            handle: handle.into(),
            displayName: name.into(),
            bio: bio.into(),
            avatarContract: Address::ZERO,
            avatarTokenId: U256::ZERO,
        });
        send(profile, key).await?;
        seed.profiles += 1;
    }
    for (i, key) in keys.iter().enumerate() {
        for (j, other) in keys.iter().enumerate() {
            if i != j {
                let follow = Body::Link(Link {
                    account: key.address(),
                    timestamp: now,
                    kind: "follow".into(),
                    target: other.address(),
                    active: true,
                });
                send(follow, key).await?;
            }
        }
    }
    let post = |account: Address, text: &str, channel: String, parent: B256| {
        Body::Post(Post {
            account,
            timestamp: now,
            text: text.into(),
            mentions: vec![],
            embeds: vec![],
            channel,
            parent,
        })
    };
    let hello = send(
        post(
            keys[0].address(),
            "gm Nest! First post from the dev stack.",
            String::new(),
            B256::ZERO,
        ),
        &keys[0],
    )
    .await?;
    let reply = send(
        post(
            keys[1].address(),
            "gm Alice, welcome.",
            String::new(),
            hello,
        ),
        &keys[1],
    )
    .await?;
    send(
        post(
            keys[2].address(),
            "Count me in for the next auction.",
            String::new(),
            reply,
        ),
        &keys[2],
    )
    .await?;
    seed.posts += 3;
    if let Some((contract, token)) = nft {
        let channel = format!("nft:{}:{token}", nest_store::codec::address_key(&contract));
        let thread = send(
            post(
                keys[1].address(),
                "This one is listed, offers welcome.",
                channel.clone(),
                B256::ZERO,
            ),
            &keys[1],
        )
        .await?;
        send(
            post(keys[2].address(), "What is the reserve?", channel, thread),
            &keys[2],
        )
        .await?;
        seed.posts += 2;
    }
    for key in &keys[1..] {
        let like = Body::Like(Like {
            account: key.address(),
            timestamp: now,
            target: hello,
            active: true,
        });
        send(like, key).await?;
        seed.likes += 1;
    }
    Ok(seed)
}
